"""The judge verifier with fake clients."""

import pytest
from tracemill.pipelines.verify import configure_judge, get_verifier
from tracemill.pipelines.verify.judge import JUDGE_PROMPT_VERSION, JudgeClient, parse_judgement


class FakeJudge:
    def __init__(self, reply="YES", error=None):
        self.reply, self.error, self.calls = reply, error, []

    def complete(self, messages):
        self.calls.append(messages)
        if self.error:
            raise self.error
        return self.reply


@pytest.fixture(autouse=True)
def _no_client():
    yield
    configure_judge(None)


PROBLEM = {"question": "What is 2+2?", "answer": "4"}


def test_fake_client_is_a_judge_client():
    assert isinstance(FakeJudge(), JudgeClient)


def test_yes_passes_and_prompt_carries_the_case():
    judge = FakeJudge("The answers agree.\nYES")
    configure_judge(judge)
    verdict = get_verifier("judge")(PROBLEM, "<think>2+2</think> It is \\boxed{four}")
    assert verdict.passed and verdict.reason == "ok"
    user = judge.calls[0][-1]["content"]
    assert "What is 2+2?" in user and "four" in user and "4" in user
    assert get_verifier("judge").version.endswith(JUDGE_PROMPT_VERSION)


def test_no_fails():
    configure_judge(FakeJudge("**NO**"))
    verdict = get_verifier("judge")(PROBLEM, "\\boxed{5}")
    assert not verdict.passed and verdict.reason == "wrong"


@pytest.mark.parametrize(
    ("reply", "score"),
    [
        ("YES", 1.0),
        ("no", 0.0),
        ("<think>could be yes</think>NO", 0.0),
        ("Yes, they are equivalent.", 1.0),
        ("They are not equivalent.", 0.0),
        ("Score: 0.8", 0.8),
        ("SCORE = 0", 0.0),
        ("", None),
        ("maybe?", None),
    ],
)
def test_parse_judgement(reply, score):
    assert parse_judgement(reply) == score


def test_client_failure_and_unreadable_reply_are_judge_errors():
    configure_judge(FakeJudge(error=TimeoutError("slow")))
    verdict = get_verifier("judge")(PROBLEM, "\\boxed{4}")
    assert verdict.reason == "judge_error" and "slow" in verdict.detail["error"]
    configure_judge(FakeJudge("hmm"))
    assert get_verifier("judge")(PROBLEM, "\\boxed{4}").reason == "judge_error"


def test_unconfigured_judge_is_judge_error_and_no_reference_checked_first():
    assert get_verifier("judge")(PROBLEM, "\\boxed{4}").reason == "judge_error"
    configure_judge(FakeJudge())
    assert get_verifier("judge")({"answer": None}, "\\boxed{4}").reason == "no_reference"
    assert get_verifier("judge")(PROBLEM, "").reason == "no_answer"
