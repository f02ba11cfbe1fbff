"""The README's quick start stays what CI runs and what a fresh machine can do."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def quick_start_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section)


def test_quick_start_has_exactly_two_setup_commands():
    commands = quick_start_commands()
    assert len(commands) == 2
    demo, tests = commands
    assert "python3 -m venv .venv" in demo and "straddles demo" in demo
    assert "'.[test]'" in tests and "pytest" in tests


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert quick_start_commands()[1] in ci


def python_snippet() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("### Python", 1)[1].split("\n### ", 1)[0]
    return re.findall(r"```python\n(.+?)\n```", section, re.S)[0]


def test_the_python_snippet_runs(tmp_path, monkeypatch):
    """Issue 9: the README's Python snippet works on a fresh install with the pandas extra."""
    import pytest
    pd = pytest.importorskip("pandas")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(python_snippet(), "README.md", "exec"), namespace)
    assert (tmp_path / "results" / "report.html").is_file()
    assert isinstance(namespace["daily"].index, pd.DatetimeIndex)
    assert namespace["summary"].to_pandas().shape[1] == len(namespace["summary"].buckets)
