"""The vocabularies are data: check their size and that profiles only use known values."""
from assistant.wording import reply, reply_names
from assistant.vocab import vocabulary


def test_sizes() -> None:
    vocab = vocabulary()
    assert len(vocab.genres) >= 80
    assert len(vocab.instrument_family) >= 200


def test_profiles_use_vocabulary_values() -> None:
    vocab = vocabulary()
    for g in vocab.genres.values():
        assert set(g.instruments) <= set(vocab.instrument_family), g.name
        assert set(g.production) <= set(vocab.production), g.name
        assert set(g.moods) <= set(vocab.moods), g.name
        assert set(g.sections) <= set(vocab.sections), g.name
        assert g.bpm[0] <= g.bpm[1] and 40 <= g.bpm[0] and g.bpm[1] <= 220, g.name
    for mood, styles in vocab.mood_styles.items():
        assert mood in vocab.moods and set(styles) <= set(vocab.genres), mood


def test_every_vocabulary_entry_is_text() -> None:
    # YAML reads yes/no/on/off as booleans and 808 as a number: catch that in the data files.
    vocab = vocabulary()
    for phrases in [*vocab.intents.values(), *vocab.filler.values()]:
        assert all(isinstance(p, str) for p in phrases)
    for matcher in vocab.matchers:
        assert all(isinstance(p, str) and p for p in matcher.phrases)


def test_reply_templates_render() -> None:
    from jinja2 import Environment, meta

    from assistant.wording import _replies

    env = Environment()
    for name in reply_names():
        needed = meta.find_undeclared_variables(env.parse(_replies()[name]))
        assert reply(name, **{v: "1" for v in needed}), name
