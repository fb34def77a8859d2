"""Checks on the public test data (published phenopackets, public face photos); skipped when it is absent."""
import numpy as np
from PIL import Image

from gestaltm3d.core import weights_path
from gestaltm3d.face_checks import blazeface_detect
from gestaltm3d.phenopackets import read_phenopackets
from gestaltm3d.syndromes import syndrome_for_omim


def test_phenopacket_store_zip_reads(shared_data):
    packets = read_phenopackets(shared_data / "phenopacket-store" / "phenopackets-dev.zip", on_error="skip",
                                limit=300, progress=False)
    assert len(packets) >= 250
    assert all(p.hpo_present or p.hpo_absent for p in packets)
    assert all(p.omim_ids for p in packets)


def test_phenopackets_include_demo_syndromes(shared_data):
    packets = read_phenopackets(shared_data / "phenopacket-store" / "phenopackets-dev.zip", unknown_terms="drop",
                                progress=False)
    syndromes = {s.name for p in packets for s in map(syndrome_for_omim, p.omim_ids) if s is not None}
    assert {"KBG", "Kabuki", "Cornelia de Lange", "Noonan"} <= syndromes


def test_blazeface_finds_single_public_faces(shared_data):
    model = weights_path("blazeface_short_range")
    photos = sorted((shared_data / "faces").glob("obama/*.jpg")) + sorted((shared_data / "faces").glob("biden/*.jpg"))
    photos.append(shared_data / "faces" / "nasa_eileen_collins" / "astronaut.png")
    assert len(photos) == 7
    missed = [p.name for p in photos if not blazeface_detect(np.asarray(Image.open(p).convert("RGB")), model)]
    assert missed == []
