from phm.config import REPO_ROOT
from phm.docs import data_dictionary


def test_committed_data_dictionary_matches_the_declarations():
    committed = (REPO_ROOT / "docs" / "data-dictionary.md").read_text(encoding="utf-8")
    assert committed == data_dictionary(), "run `make docs` and commit docs/data-dictionary.md"
