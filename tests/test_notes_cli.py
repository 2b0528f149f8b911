"""CI runs `frontline notes check` on the shipped notes through this test."""


def test_shipped_notes_pass_the_check(cli):
    r = cli("notes", "check")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "valid" in r.stdout


def test_broken_note_is_reported_with_file_and_line(cli, tmp_path):
    (tmp_path / "bad.yaml").write_text(
        "- id: bad-one\n  towns: [Atlantis]\n  scope: town\n  about: 2024-02-30\n  published: 2024-03-01\n"
        "  source: {publisher: X, kind: news}\n  claimant: X\n  claim: captured\n  summary: s\n")
    r = cli("notes", "check", "--dir", tmp_path)
    assert r.returncode == 1
    assert f"{tmp_path / 'bad.yaml'}:4:" in r.stdout or "bad.yaml:4:" in r.stdout
    assert "Atlantis" in r.stdout and "Traceback" not in r.stdout + r.stderr
