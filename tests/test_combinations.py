"""The combinations CONTRIBUTING.md lists: those the hook refuses, and those the
suite bakes. Both tables are read from that file and checked against the code
that decides, so that the list a maintainer reads is the one that runs. And
what lets answers take turns: they change only the files they name."""

import itertools
import re

import pytest
from helpers import CHOICES, CONTEXT, REPO, TEXT_ONLY, combinations, load_hook

CONTRIBUTING = REPO / "CONTRIBUTING.md"
IN_TURN = "in turn"
pre = load_hook("pre_gen_project")


def tables():
    """Every table of the Combinations section, as lists of {column: cell}."""
    text = CONTRIBUTING.read_text()
    section = re.search(r"^## Combinations\n(.*?)^## ", text, re.DOTALL | re.MULTILINE).group(1)
    found = []
    for block in re.findall(r"(?:^\|.*\|\n)+", section, re.MULTILINE):
        header, _rule, *rows = [
            [cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in block.splitlines()
        ]
        found.append([dict(zip(header, row, strict=True)) for row in rows])
    return found


def answers_of(cell):
    return [answer.strip() for answer in cell.split(",")]


def test_the_section_holds_both_tables():
    refused, baked = tables()
    assert list(refused[0])[-1] == "refused with" and list(baked[0])[-1] == "bakes"


def test_the_refused_table_is_what_the_hook_refuses():
    """Of every combination of the choice prompts' answers, the hook refuses
    exactly those a row of the table matches, with that row's line."""
    refused, _ = tables()
    for row in refused:
        for column, cell in row.items():
            if column != "refused with":
                assert set(answers_of(cell)) <= set(CHOICES[column]), (column, cell)
    others = {key: value for key, value in CONTEXT.items() if key not in CHOICES}
    for values in itertools.product(*CHOICES.values()):
        answers = {**others, **dict(zip(CHOICES, values, strict=True))}
        expected = [
            row["refused with"]
            for row in refused
            if all(
                answers[column] in answers_of(cell)
                for column, cell in row.items()
                if column != "refused with"
            )
        ]
        found = [message for clash in pre.CLASHES if (message := clash(answers))]
        assert found == expected, answers


@pytest.fixture(scope="module")
def baked_rows():
    """Each row of the baked table with the combinations the suite bakes for it."""
    _, table = tables()
    assert set(table[0]) == {*CHOICES, "bakes"}
    baked = combinations()
    rows = []
    for row in table:
        listed = {key: answers_of(cell) for key, cell in row.items() if key != "bakes"}
        mine = [
            answers
            for answers in baked
            if all(cell == [IN_TURN] or answers[key] in cell for key, cell in listed.items())
        ]
        rows.append((row, listed, mine))
    return rows


def test_each_bake_is_in_one_row_of_the_baked_table(baked_rows):
    baked = combinations()
    assert sum(len(mine) for *_, mine in baked_rows) == len(baked)
    for answers in baked:
        assert sum(answers in mine for *_, mine in baked_rows) == 1, answers


def test_each_row_bakes_every_combination_of_its_answers_once(baked_rows):
    for row, listed, mine in baked_rows:
        assert int(row["bakes"]) == len(mine), row
        given = {key: cell for key, cell in listed.items() if cell != [IN_TURN]}
        every = [
            dict(zip(given, values, strict=True)) for values in itertools.product(*given.values())
        ]
        seen = [{key: answers[key] for key in given} for answers in mine]
        assert sorted(map(str, seen)) == sorted(map(str, every)), row


def test_the_columns_in_turn_change_from_bake_to_bake(baked_rows):
    """An "in turn" column is not one answer fixed for the row: consecutive
    bakes of the row take different answers."""
    for row, listed, mine in baked_rows:
        for key, cell in listed.items():
            if cell == [IN_TURN]:
                taken = [answers[key] for answers in mine]
                assert all(a != b for a, b in itertools.pairwise(taken)), (row, key, taken)


def test_each_answer_in_turn_meets_each_answer_of_its_prompts():
    """An answer in turn is baked with every answer of the prompts that choose
    the files it changes (TEXT_ONLY's "with"): each base image and license in
    the Dockerfile of each deployment."""
    baked = combinations()
    for key, text_only in TEXT_ONLY.items():
        prompts = [key, *text_only["with"]]
        every = set(itertools.product(*(CHOICES[prompt] for prompt in prompts)))
        seen = {tuple(answers[prompt] for prompt in prompts) for answers in baked}
        assert seen == every, key


def files_of(project):
    return {
        str(path.relative_to(project)): (path.stat().st_mode, path.read_bytes())
        for path in sorted(project.rglob("*"))
        if path.is_file()
    }


def test_an_answer_in_turn_changes_only_its_files(cookies_session):
    """Bakes that differ in a TEXT_ONLY answer alone hold the same files and
    differ in exactly the files named there, for each answer of the prompts
    that choose those files: taking turns leaves nothing else unbaked."""
    for key, text_only in TEXT_ONLY.items():
        for values in itertools.product(*(CHOICES[prompt] for prompt in text_only["with"])):
            others = dict(zip(text_only["with"], values, strict=True))
            bakes = []
            for answer in CHOICES[key]:
                result = cookies_session.bake(extra_context={**others, key: answer})
                assert result.exit_code == 0, result.exception
                bakes.append(files_of(result.project_path))
            first, *rest = bakes
            changed = set()
            for files in rest:
                assert set(files) == set(first), (key, others)
                changed |= {path for path in files if files[path] != first[path]}
            assert changed == set(text_only["files"]), (key, others)
