"""The LLM may help but never make things worse: every failure mode leaves a correct conversation."""

import jinja2
import pytest

from assistant.dialogue.turns import step
from assistant.understanding.llm import LLMError, embedded_model_path
from tests.doubles import ScriptedLLM
from assistant.dialogue.state import State
from assistant.wording import prompt_file
from assistant.understanding.understand import Understanding, unexplained_words
from assistant.resources import PROMPTS_DIR


def run(llm: ScriptedLLM, *messages: str) -> tuple[State, list]:
    state, replies = State(), []
    helper = Understanding(llm)
    for message in messages:
        state, reply = step(state, message, understand=helper)
        replies.append(reply)
    return state, replies


UNPLACED = "a song about my old dog"  # no vocabulary word, no reference: only the LLM can place it


def test_an_unplaced_request_gets_a_mood_chosen_from_our_list_and_shown_as_inferred() -> None:
    # scores after the request, then after a request that says nothing (the model's prior)
    llm = ScriptedLLM().enqueue({"nostalgic": -1.0, "sad": -2.0}, {"nostalgic": -3.0, "sad": -1.0})
    state, [reply] = run(llm, UNPLACED)
    assert state.brief.style.mood == ["nostalgic"] and state.brief.style.genre is None
    assert "style.mood" in state.inferred_paths and "style.mood" not in state.user_paths
    assert reply.action == "ask" and reply.asks_about == ["style"]
    assert "synthwave" in reply.options  # the options fit the chosen mood (mood_styles.yaml)
    assert UNPLACED in llm.history[0][0]["content"] and "some music" in llm.history[1][0]["content"]


def test_the_models_prior_is_calibrated_away() -> None:
    # "melancholic" scores best after any request; what the request adds decides
    llm = ScriptedLLM().enqueue({"melancholic": -1.0, "romantic": -2.0}, {"melancholic": -0.5, "romantic": -3.0})
    state, _ = run(llm, UNPLACED)
    assert state.brief.style.mood == ["romantic"]


def test_the_prior_is_computed_once() -> None:
    llm = ScriptedLLM().enqueue({"sad": -1.0}, {"sad": -2.0}, {"calm": -1.0})
    helper = Understanding(llm)
    step(State(), UNPLACED, understand=helper)
    state, _ = step(State(), "a song about my old teacher", understand=helper)
    assert len(llm.history) == 3 and state.brief.style.mood == ["calm"]


def test_misspellings_are_read_without_the_model() -> None:
    state, _ = run(ScriptedLLM(), "tecnho with saxaphone")
    assert state.brief.style.genre == "techno" and state.brief.palette.instruments == ["saxophone"]


def test_llm_never_overwrites_what_the_user_said() -> None:
    llm = ScriptedLLM().enqueue({"sad": 0.0}, {"sad": -1.0})
    state, _ = run(llm, "house at 120 bpm about my old dog")
    assert state.brief.style.genre == "house" and state.brief.tempo.bpm == 120
    assert "style.mood" not in state.inferred_paths
    assert llm.history == []  # the style was known: nothing to choose


def test_references_place_requests_before_the_model_is_asked() -> None:
    llm = ScriptedLLM()
    state, _ = run(llm, "tecnho for a warehouse rave at dawn")
    assert state.brief.style.genre == "techno" and llm.history == []


@pytest.mark.parametrize("message", ["keep 2", "keep 1", "use seed 42", "new song", "more variations", "120",
                                     "i like the second one"])
def test_commands_and_values_never_reach_the_model(message: str) -> None:
    llm = ScriptedLLM()
    _, [reply] = run(llm, message)
    assert llm.history == []
    assert "loss" not in reply.reply and "I took" not in reply.reply
    assert "I didn't find anything about the music" not in reply.reply


@pytest.mark.parametrize("failure", [LLMError("timed out"), LLMError("the model failed"), RuntimeError("boom")])
def test_exceptions_and_timeouts_fall_back_to_the_rules(failure: Exception) -> None:
    llm = ScriptedLLM().enqueue(failure)
    if not isinstance(failure, LLMError):
        with pytest.raises(RuntimeError):  # unexpected errors surface in tests, LLMError never does
            run(llm, UNPLACED)
        return
    state, [reply] = run(llm, UNPLACED)
    assert reply.action == "ask" and reply.asks_about == ["style"]


def test_off_topic_replies_are_always_the_template_even_with_the_llm_on() -> None:
    llm = ScriptedLLM().enqueue('{"kind": "other"}', "I'm a music AI, and I'm 20 years old.")
    _, [reply] = run(llm, "blorp zint quaxle")
    assert reply.reply.startswith("I'm here to shape music")
    assert all("20 years" not in str(m) for m in llm.history)  # the model was never asked to write it


def test_invalid_json_from_the_classifier_is_ignored() -> None:
    llm = ScriptedLLM().enqueue("{not json")
    state, [reply] = run(llm, "what is the meaning of the blue parrot?")
    assert reply.action == "answer"


def test_classification_needs_the_users_words() -> None:
    llm = ScriptedLLM().enqueue('{"kind": "new_song"}')  # no "new/another/different" in the message
    state = State(phase="generated")
    state, reply = step(state, "hmm whatever blorp", understand=Understanding(llm))
    assert reply.action == "answer" and state.phase == "generated"


def test_vague_requests_do_not_call_the_model() -> None:
    llm = ScriptedLLM()
    _, [reply] = run(llm, "make a cool song")
    assert llm.history == [] and reply.asks_about == ["style"]
    assert unexplained_words("make a cool song") == []


def test_every_prompt_file_renders_strictly() -> None:
    for path in PROMPTS_DIR.glob("*.md"):
        assert prompt_file(path.stem, has_music=True, request="a song", error="not JSON")
    with pytest.raises(jinja2.exceptions.UndefinedError):
        prompt_file("classify")  # has_music missing: a missing variable fails loudly


def test_embedded_model_is_found_in_the_installed_package() -> None:
    path = embedded_model_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.stat().st_size > 50_000_000


def test_named_instruments_rank_the_style_without_the_model() -> None:
    # MusicCaps train: the model's mood, chosen without the instruments, made prompts worse
    # ("bagpipes" -> aggressive -> phonk); the genre profiles rank the style from the instruments.
    llm = ScriptedLLM()
    state, [reply] = run(llm, "a song about my old dog, with bagpipes and a fiddle")
    assert llm.history == [] and state.brief.style.mood == []


@pytest.mark.parametrize("scores,mood", [
    ({"nostalgic": -1.00, "sad": -1.05}, None),  # a near tie: no mood is guessed from a bare title
    ({"nostalgic": -1.0, "sad": -2.0}, "nostalgic"),
])
def test_a_bare_titles_mood_is_kept_only_when_it_clearly_leads(scores: dict, mood) -> None:
    llm = ScriptedLLM().enqueue(scores, {"nostalgic": -3.0, "sad": -3.0})  # after the request, then the prior
    state, [reply] = run(llm, "hollow world")
    assert state.brief.theme == "hollow world" and reply.asks_about == ["style"]
    assert state.brief.style.mood == ([mood] if mood else [])
