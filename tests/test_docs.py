"""The manual holds to the repository: every code and setting is documented, every command
shown is one eidflow takes, and no link leaves the repo.

``mkdocs build --strict`` (scripts/test) checks the links between pages of ``docs/``; these
tests add what it cannot see: the README's links, the codes, settings and options defined
in the source, links out of the repository and to non-public sites.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

import click
import pytest
from pydantic import BaseModel

from app.cli import main
from app.settings import Settings
from eidflow import codes
from eidflow.core import answer_codes

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
WITH_README = [ROOT / "README.md", *PAGES]

_FENCE = re.compile(r"^(```|~~~).*?^\1", flags=re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|<(https?://[^>\s]+)>")


def prose(path: Path) -> str:
    """The page without its code blocks and code spans: what a reader can click."""
    return _CODE_SPAN.sub("", _FENCE.sub("", path.read_text(encoding="utf-8")))


def links(path: Path) -> list[str]:
    return [inline or bare for inline, bare in _LINK.findall(prose(path))]


def documented(page: Path) -> set[str]:
    """The codes in backticks in the page's table rows."""
    rows = [line for line in page.read_text(encoding="utf-8").splitlines() if line.startswith("|")]
    return set(re.findall(r"`([a-z0-9_]+)`", "\n".join(rows)))


@pytest.mark.parametrize(
    ("page", "enum"),
    [
        ("codes.md", codes.Status),
        ("codes.md", codes.Reason),
        ("codes.md", codes.WarningCode),
        ("codes.md", codes.IntuneState),
        ("answers.md", answer_codes.Verdict),
        ("answers.md", answer_codes.AnswerReason),
        ("answers.md", answer_codes.AnswerWarning),
    ],
)
def test_every_code_has_a_line_in_its_page(page: str, enum: type[StrEnum]) -> None:
    missing = sorted({code.value for code in enum} - documented(DOCS / page))
    assert not missing, f"docs/{page} has no table row for {missing}: document them there"


def settings_entries(model: type[BaseModel], section: str = "") -> list[tuple[str, str]]:
    """Every (section, entry) of eidflow.toml, from the settings models."""
    entries = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            entries += settings_entries(annotation, f"{section}.{name}".strip("."))
        else:
            entries.append((section, name))
    return entries


def documented_settings() -> set[tuple[str, str]]:
    """The (section, entry) pairs the first cells of the reference's rows name.

    ``[delivery.s3] bucket`, `prefix``` names two entries; ``[parsers.profiles.NAME]``
    the entry ``profiles`` of ``[parsers]``; ``[[operators]]`` the top-level ``operators``.
    """
    found = set()
    for line in (DOCS / "configuration.md").read_text(encoding="utf-8").splitlines():
        cell = line.split("|")[1] if line.startswith("| `[") else ""
        if table := re.fullmatch(r"\s*`\[\[([a-z_]+)\]\]`\s*", cell):
            found.add(("", table.group(1)))
        elif named := re.match(r"\s*`\[([a-z0-9_.]+?)(?:\.NAME)?\]", cell):
            section = named.group(1)
            if named.group(0).endswith(".NAME]"):
                found.add((section.rpartition(".")[0], section.rpartition(".")[2]))
            found |= {
                (section, name) for name in re.findall(r"`(?:\[[a-z0-9_.]+\] )?([a-z_]+)`", cell)
            }
    return found


def test_every_setting_has_a_row_in_the_configuration_reference() -> None:
    missing = sorted(set(settings_entries(Settings)) - documented_settings())
    assert not missing, f"docs/configuration.md, 'Every setting', has no row for {missing}"


def test_the_manual_has_pages_and_the_readme_links_into_them() -> None:
    assert len(PAGES) >= 10
    into_docs = {link.split("#")[0] for link in links(ROOT / "README.md")}
    assert "docs/index.md" in into_docs
    assert "docs/codes.md" in into_docs


def link_problems(page: Path, root: Path = ROOT) -> list[str]:
    """What is wrong with the page's links: out of ``root``, to no file, or to a non-public site."""
    wrong = []
    for link in links(page):
        parts = urlsplit(link)
        if parts.scheme or link.startswith("//"):
            if not _public_https(link):
                wrong.append(f"{link}: absolute links go only to public https sites")
            continue
        if not parts.path:  # an anchor on the same page; mkdocs checks those of docs/
            continue
        target = (page.parent / parts.path).resolve()
        if not target.is_relative_to(root):
            wrong.append(f"{link}: outside the repository")
        elif not target.exists():
            wrong.append(f"{link}: no such file in the repository")
    return wrong


@pytest.mark.parametrize("page", WITH_README, ids=lambda page: str(page.relative_to(ROOT)))
def test_no_link_leaves_the_repository(page: Path) -> None:
    wrong = link_problems(page)
    assert not wrong, f"{page.relative_to(ROOT)}: " + "; ".join(wrong)


def test_the_link_check_finds_each_kind_of_wrong_link(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "codes.md").write_text("# Codes\n")
    page = tmp_path / "docs" / "page.md"
    page.write_text(
        "[ok](codes.md#warnings) [anchor](#here) [site](https://learn.microsoft.com/x)\n"
        "[spec](../../shared/spec/run-outputs.md) [gone](ledger.md) <http://example.org/>\n"
        "[loopback](https://127.0.0.1:4200/api) [lan](https://db.internal/x)\n"
        "`[in code](../nowhere.md)`\n```\n[fenced](../nowhere.md)\n```\n"
    )
    assert [problem.split(":")[0] for problem in link_problems(page, tmp_path)] == [
        "../../shared/spec/run-outputs.md",
        "ledger.md",
        "http",
        "https",
        "https",
    ]


@pytest.mark.parametrize("page", WITH_README, ids=lambda page: str(page.relative_to(ROOT)))
def test_no_page_points_at_files_users_do_not_have(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert "../shared" not in text
    assert "shared/spec" not in text


def _public_https(link: str) -> bool:
    parts = urlsplit(link)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or not host or "." not in host:
        return False
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal", ".example")):
        return False
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        return True  # a host name


_SHELL_BLOCK = re.compile(r"^ *```sh\n(.*?)^ *```", flags=re.MULTILINE | re.DOTALL)


def shown_commands(page: Path) -> list[str]:
    """The ``eidflow`` command lines of the page's ``sh`` blocks, continuations joined."""
    commands = []
    for block in _SHELL_BLOCK.findall(page.read_text(encoding="utf-8")):
        for line in block.replace("\\\n", " ").splitlines():
            for part in line.split("&&"):
                words = shlex.split(part, comments=True)
                if words and words[0].endswith("eidflow"):
                    commands.append(
                        shlex.join(words[1 : words.index(">")] if ">" in words else words[1:])
                    )
    return commands


def parsed(arguments: list[str]) -> click.Command:
    """The command ``eidflow ARGUMENTS`` names, its options and arguments checked, not run."""
    context = main.make_context("eidflow", list(arguments))
    command: click.Command = main
    while isinstance(command, click.Group):
        rest = [*context._protected_args, *context.args]
        name, found, rest = command.resolve_command(context, rest)
        assert name is not None and found is not None
        command = found
        context = command.make_context(name, rest, parent=context)
    return command


SHOWN = sorted({(page, line) for page in WITH_README for line in shown_commands(page)})


def test_the_walk_throughs_show_commands() -> None:
    tasks = {page.name for page, _ in SHOWN if page.parent.name == "tasks"}
    assert len(tasks) == len(list((DOCS / "tasks").glob("*.md")))


@pytest.mark.parametrize(
    ("page", "line"), SHOWN, ids=[f"{page.name}: {line[:60]}" for page, line in SHOWN]
)
def test_every_command_shown_is_one_eidflow_takes(
    page: Path, line: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)  # the samples' paths are the repository's
    monkeypatch.setenv("EIDFLOW_NOTIFY_URL", "https://hooks.example.org/x")  # else it asks
    try:
        parsed(shlex.split(line))
    except click.UsageError as error:
        message = error.format_message()
        if not (isinstance(error, click.BadParameter) and "does not exist" in message):
            pytest.fail(f"{page.relative_to(ROOT)}: eidflow {line}: {message}")
        # a file of the reader's own (their eidflow.toml): the option itself was taken
