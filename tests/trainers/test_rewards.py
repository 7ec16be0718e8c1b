import pytest
from tracemill.pipelines.verify import Verdict, register_verifier
from tracemill.trainers.rewards import (
    LaserDReward,
    LaserReward,
    completion_lengths,
    completion_text,
    verifier_reward,
)


@register_verifier("tm_test_contains", "1")
def _contains(problem, response):
    """Passes when the reference answer occurs in the response."""
    ok = bool(problem.get("answer")) and problem["answer"] in response
    return Verdict(ok, 1.0 if ok else 0.0, "ok" if ok else "wrong")


def _columns(n, level=None, verifier="tm_test_contains"):
    return {
        "problem_id": [f"p{i}" for i in range(n)],
        "answer": ["42"] * n,
        "verifier": [verifier] * n,
        "level": [level] * n,
    }


def test_completion_text_and_lengths():
    assert completion_text("plain") == "plain"
    assert completion_text([{"role": "assistant", "content": "chat"}]) == "chat"
    assert completion_text(None) == ""
    assert completion_lengths(["a b c", "d"], None) == [3, 1]
    assert completion_lengths(["a b c", "d"], [[1, 2], [3, 4, 5, 6]]) == [2, 4]


def test_verifier_reward():
    completions = ["the answer is 42", [{"role": "assistant", "content": "43"}], "42"]
    cols = _columns(3)
    cols["verifier"][2] = None
    assert verifier_reward(completions, **cols) == [1.0, 0.0, None]


def test_verifier_reward_unknown_verifier_is_an_error():
    with pytest.raises(KeyError, match="unknown verifier"):
        verifier_reward(["x"], **_columns(1, verifier="tm_no_such_verifier"))


def test_laser_values():
    reward = LaserReward(target=3, bonus=0.5)
    completions = ["42", "so it is 42", "wrong", "a b c d 42"]
    # lengths (words): 1, 4, 1, 5
    assert reward(completions, **_columns(4)) == [1.5, 1.0, 0.0, 1.0]
    # token counts from completion_ids take precedence over words
    ids = [[0] * 3, [0] * 3, [0], [0] * 4]
    assert reward(completions, completion_ids=ids, **_columns(4)) == [1.5, 1.5, 0.0, 1.0]
    assert reward.__name__ == "laser"
    with pytest.raises(ValueError):
        LaserReward(target=0)


def test_laser_d_targets_per_level():
    reward = LaserDReward(100, bonus=0.5, group_size=4, min_rollouts=4, update_every=1)
    ids = lambda *lens: [[0] * n for n in lens]  # noqa: E731
    completions = ["42", "42", "no", "no"]
    # batch 1, level 1: all within the initial target of 100
    assert reward(completions, completion_ids=ids(10, 20, 30, 40), **_columns(4, 1)) == [
        1.5, 1.5, 0.0, 0.0,
    ]
    # ECR(10) = 4 * 1/4 = 1 >= 1: level 1's target drops to 10; level 2 keeps 100
    assert reward.targets == {1: 10}
    assert reward(completions[:2], completion_ids=ids(10, 15), **_columns(2, 1)) == [1.5, 1.0]
    assert reward(completions[:2], completion_ids=ids(90, 15), **_columns(2, 2)) == [1.5, 1.5]
    assert reward.target_for(2) == 100


def test_laser_d_estimate_rule():
    reward = LaserDReward(4096, group_size=8, ecr=1.0, max_target=4096)
    # 16 rollouts, 3 correct: ECR(L) = 8 * correct_within(L) / 16 reaches 1 at the 2nd
    rollouts = [(100, True), (300, True), (200, True)] + [(50, False)] * 13
    assert reward.estimate(rollouts) == 200
    # harder: a higher threshold needs more correct rollouts inside the target
    reward.ecr = 1.5
    assert reward.estimate(rollouts) == 300
    # no correct rollout at all: no compression
    assert reward.estimate([(10, False)] * 8) == 4096
    # too few rollouts for a level: the initial target stays
    small = LaserDReward(64, group_size=2, min_rollouts=10)
    small(["42"], completion_ids=[[0]], **_columns(1, 3))
    assert small.target_for(3) == 64


@register_verifier("tm_test_partial", "1")
def _partial(problem, response):
    """Half credit for mentioning the answer once, a pass for saying it twice."""
    hits = response.count(problem["answer"])
    return Verdict(hits >= 2, min(hits, 2) / 2, "ok" if hits >= 2 else "partial")


def test_correctness_is_all_or_nothing_unless_partial_credit():
    from tracemill.trainers.rewards import partial_verifier_reward

    cols = _columns(2, verifier="tm_test_partial")
    assert verifier_reward(["42", "42 42"], **cols) == [0.0, 1.0]
    assert partial_verifier_reward(["42", "42 42"], **cols) == [0.5, 1.0]
    one = _columns(1, verifier="tm_test_partial")
    assert LaserReward(10)(["42"], **one) == [0.0]
    assert LaserReward(10, partial_credit=True)(["42"], **one) == [0.5]  # still no bonus


def test_text_length_and_truncation():
    from tracemill.trainers.rewards import is_truncated, text_length

    assert text_length("a b c") == 3
    assert text_length("x" * 400) == 100  # glued text counts by bytes
    assert text_length("\u200b".join(["w"] * 100)) == 100  # zero-width joiners
    assert is_truncated("<think>still thinking", 5, None)
    assert not is_truncated("<think>done</think> 42", 5, None)
    assert is_truncated("done</think> 42 <think>again", 5, None)
    assert is_truncated("42", 64, 64) and not is_truncated("42", 63, 64)


def test_grpo_reward_knows_the_completion_limit():
    from tracemill.trainers.grpo import GrpoConfig, make_reward

    cfg = GrpoConfig(dataset="d", model="m", length_reward="laser_d", max_completion_length=64)
    reward = make_reward(cfg)
    assert reward.max_length == 64 and not reward.partial_credit
    ids = [[0] * 64, [0] * 10]
    assert reward(["42", "42"], completion_ids=ids, **_columns(2)) == [1.0, 1.5]
    assert make_reward(GrpoConfig(dataset="d", model="m")) is verifier_reward


def test_laser_d_reads_the_level_it_is_told_to():
    """level_from source: targets follow source_level, not the graded level."""
    from tracemill.trainers.grpo import GrpoConfig, make_reward

    cfg = GrpoConfig(dataset="rl", model="m", length_reward="laser_d", target_length=100,
                     num_generations=4, laser_min_rollouts=4, level_from="source")  # fmt: skip
    reward = make_reward(cfg)
    assert reward.level_column == "source_level"
    ids = [[0] * n for n in (10, 20, 30, 40)]
    columns = {**_columns(4, level=7), "source_level": [3] * 4}
    reward(["42", "42", "no", "no"], completion_ids=ids, **columns)
    assert reward.targets == {3: 10}  # keyed by source_level 3, not graded level 7
    graded = make_reward(GrpoConfig(dataset="rl", model="m", length_reward="laser_d"))
    assert graded.level_column == "level"
    with pytest.raises(ValueError, match="level_from"):
        GrpoConfig(dataset="rl", model="m", level_from="mixed").check()
