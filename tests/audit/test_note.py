"""Signed notes, checkpoints and cosignatures against vectors not written here: the Go
reference implementation of signed notes (golang.org/x/mod/sumdb/note) and a real
checkpoint of a Certificate Transparency log cosigned by a public witness."""

import pytest

from ocpo_coord.audit.note import COSIGNATURE_V1, Checkpoint, Note, NoteError, Signer, Verifier

# golang.org/x/mod/sumdb/note, the example of its documentation.
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT
    + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)

# A checkpoint of the arche2025h1 staging CT log, signed by the log and cosigned
# (cosignature/v1, C2SP tlog-cosignature) by the remora.n621.de witness.
CT_LOG_VKEY = "arche2025h1.staging.ct.transparency.dev+ba2f06c0+AU0vHmlGCS/PdN8b2OaGmKprLI8HKM+dJ472xgFYh15f"
WITNESS_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
CT_CHECKPOINT = """arche2025h1.staging.ct.transparency.dev
1432088532
U7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=

\u2014 arche2025h1.staging.ct.transparency.dev zTM8sQAAAZ5W0WdjBAMARjBEAiBjW5IQf9pvsYLfQFX6hoGREPMHbdQ3urbllzalApkptQIgIpwtEroeW2BXaHAI4kJXFbon5Ch9MNL5zRNZ55lvGt0=
\u2014 arche2025h1.staging.ct.transparency.dev ui8GwCF1+kWqZrxGdhj4aX3gcw7XUlXQQabg/27lefwhUkzbC3NygNI75MdhL1bfTW9g8Ei59RA23oHP7Ry1k3ZFWwQ=
\u2014 remora.n621.de 2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVCIobWX9sXTynk5XeU/zZ0WBxtqB0DrAWfBw==
"""


def test_the_go_reference_note_verifies_and_is_signed_byte_for_byte() -> None:
    verifier = Verifier.parse(GO_VKEY)
    note = Note.parse(GO_NOTE)
    assert note.text == GO_TEXT
    note.signed_by(verifier)
    signer = Signer.parse(GO_SKEY)
    assert signer.text() == GO_SKEY
    assert signer.verifier().text() == GO_VKEY
    assert GO_TEXT + "\n" + signer.sign_line(GO_TEXT) == GO_NOTE


def test_an_altered_note_fails_its_signature() -> None:
    with pytest.raises(NoteError, match="does not verify"):
        Note.parse(GO_NOTE.replace("cryptography", "cryptographY")).signed_by(Verifier.parse(GO_VKEY))


def test_a_real_cosigned_checkpoint_verifies() -> None:
    note = Note.parse(CT_CHECKPOINT)
    note.signed_by(Verifier.parse(CT_LOG_VKEY))
    found = note.cosigned_by(Verifier.parse(WITNESS_VKEY))
    assert found is not None
    checkpoint = Checkpoint.parse(note.text)
    assert (checkpoint.origin, checkpoint.size) == ("arche2025h1.staging.ct.transparency.dev", 1432088532)
    assert checkpoint.text() == note.text


def test_a_cosignature_over_another_size_fails() -> None:
    forged = Note.parse(CT_CHECKPOINT.replace("1432088532", "1432088533"))
    with pytest.raises(NoteError, match=r"cosignature of remora\.n621\.de does not verify"):
        forged.cosigned_by(Verifier.parse(WITNESS_VKEY))


def test_cosignatures_made_here_verify_as_the_specification_says() -> None:
    witness = Signer.generate("witness.example/w1", COSIGNATURE_V1)
    body = Checkpoint("example.com/log", 7, b"\x01" * 32).text()
    note = Note.parse(body + "\n" + witness.cosign_line(body, 1679315147))
    found = note.cosigned_by(witness.verifier())
    assert found is not None
    assert found[1] == 1679315147


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("no blank line\n\u2014 k AAAA\n", "blank line"),
        ("text\n\n- k AAAAAAA=\n", "signature line"),
        ("text\n\n\u2014 k not-base64!\n", "base64"),
        ("text\x07\n\n\u2014 k AAAAAAA=\n", "control characters"),
    ],
)
def test_malformed_notes_are_refused_with_the_reason(text: str, problem: str) -> None:
    with pytest.raises(NoteError, match=problem):
        Note.parse(text)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("log\n01\nAAAA\n", "leading zeros"),
        ("log\n1\nAAAA\n", "32 bytes"),
        ("log\n1\n", "origin, size and root"),
        ("\n1\n" + "A" * 43 + "=\n", "no origin"),
    ],
)
def test_malformed_checkpoints_are_refused_with_the_reason(text: str, problem: str) -> None:
    with pytest.raises(NoteError, match=problem):
        Checkpoint.parse(text)


@pytest.mark.parametrize(
    "vkey",
    [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # key ID mismatch
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # space in name
        "PeterNeumann+c74f20a3",
        "PeterNeumann+c74f20a3+!!!!",
    ],
)
def test_malformed_verifier_keys_are_refused(vkey: str) -> None:
    with pytest.raises(NoteError):
        Verifier.parse(vkey)
