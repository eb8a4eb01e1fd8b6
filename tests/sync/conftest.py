"""The sync tests' fixtures (`world_factory`, `small_user`) live in tests/conftest.py, section
"sync worlds", because the CLI tests use them too."""
