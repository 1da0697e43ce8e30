"""The one bounded store behind every cache many users fill."""
from assistant.bounded import BoundedStore


def test_the_oldest_go_first_and_a_put_makes_a_value_the_newest() -> None:
    store: BoundedStore[str, int] = BoundedStore(2)
    store.put("a", 1)
    store.put("b", 2)
    store.put("a", 3)  # "a" is the newest now
    store.put("c", 4)
    assert store.get("b") is None and store.get("a") == 3 and store.get("c") == 4 and len(store) == 2


def test_values_weigh_and_the_newest_stays_whatever_it_weighs() -> None:
    store: BoundedStore[str, float] = BoundedStore(10.0, weight=lambda seconds: seconds)
    store.put("short", 4.0)
    store.put("long", 5.0)
    assert len(store) == 2
    store.put("huge", 30.0)
    assert store.values() == [30.0]
    store.pop("huge")
    assert len(store) == 0 and store.get(None) is None
