"""'continue this' with a clip, as the dialogue decides it (no audio here): a round whose takes start
with the clip, its length, a style named with it, edits that keep the clip, and refusals in words."""
from assistant.actions import HeardClip, Say
from assistant.dialogue.turns import act, step
from assistant.dialogue.state import State

CLIP = HeardClip(clip_id="abcdef012345", seconds=8.0, original_seconds=8.0)


def test_continue_this_starts_a_round_that_continues_the_clip() -> None:
    state, out = act(State(), Say(text="continue this by 20 seconds", heard=CLIP))
    rnd = state.last_round
    assert out.action == "generate" and rnd.continues.clip_id == CLIP.clip_id and rnd.extend_s == 20.0
    assert state.brief.duration_s == 28.0 and state.brief.melody is None  # the clip starts the take; no melody
    assert "Your clip (8 s) continued from its end at 8 s for 20 s more (28 s in all), 2 takes" in out.reply


def test_a_style_named_with_the_clip_is_the_brief() -> None:
    state, out = act(State(), Say(text="continue this as lo-fi hip hop", heard=CLIP))
    assert state.brief.style.genre == "lofi hip hop" and state.last_round.extend_s == 10.0  # the default length


def test_an_edit_continues_the_clip_again_and_drop_stops() -> None:
    state, _ = act(State(), Say(text="continue this", heard=CLIP))
    seeds = state.last_round.seeds
    state, out = step(state, "make it faster")
    assert state.last_round.continues is not None and state.last_round.seeds == seeds
    state, out = step(state, "extend take 1 by 5 seconds")  # a take of it goes on as any take does
    assert state.last_round.extends is not None and state.last_round.continues is None
    state, out = step(state, "drop the clip")
    assert out.action == "generate" and state.last_round.continues is None


def test_continue_my_clip_uses_the_last_clip_sent() -> None:
    state, _ = act(State(), Say(text="techno at 130 bpm, follow this", heard=CLIP))
    assert state.brief.melody is not None
    state, out = step(state, "continue my clip")
    assert state.last_round.continues.clip_id == CLIP.clip_id


def test_continue_my_clip_with_no_clip_says_how() -> None:
    state, out = step(State(), "continue my clip")
    assert out.action == "answer" and "Send the clip with your message" in out.reply


def test_a_refused_clip_with_continue_this_is_only_refused() -> None:
    state, _ = step(State(), "house at 124 bpm, go")
    refused = HeardClip(refused="empty")
    after, out = act(state, Say(text="continue this", heard=refused))
    assert out.action == "answer" and out.reply == "That clip is empty." and len(after.rounds) == 1


def test_a_clip_too_long_to_continue_is_refused() -> None:
    state, out = act(State(), Say(text="continue this by 175 seconds", heard=CLIP))
    assert out.action == "answer" and "at most 180 s" in out.reply and not state.rounds


def test_new_song_follow_this_keeps_the_clip_as_the_melody() -> None:
    state, _ = step(State(), "house at 124 bpm, go")
    state, out = act(state, Say(text="new song. techno at 130 bpm, follow this", heard=CLIP))
    assert out.action == "generate" and state.brief.melody.clip_id == CLIP.clip_id
    assert state.last_round.brief.melody is not None
