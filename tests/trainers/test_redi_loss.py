import math

import torch
from tracemill.trainers.redi import PairCollator, encode_completion, redi_loss, sequence_logps
from tracemill.trainers.tiny import build_tiny_tokenizer


def test_redi_loss_hand_computed():
    # vocab of 2; every position predicts token 1 with p = 3/4 and token 0 with p = 1/4
    logits = torch.tensor([0.0, math.log(3.0)]).repeat(2, 4, 1)
    # positive: prompt token then two completion tokens "1 1"
    pos_ids = torch.tensor([[0, 1, 1, 0]])
    pos_mask = torch.tensor([[0, 1, 1, 0]])
    # negative: prompt token then one completion token "0", then padding
    neg_ids = torch.tensor([[0, 0, 0, 0]])
    neg_mask = torch.tensor([[0, 1, 0, 0]])
    sums, counts = sequence_logps(
        logits, torch.cat([pos_ids, neg_ids]), torch.cat([pos_mask, neg_mask])
    )
    assert torch.allclose(sums, torch.tensor([2 * math.log(0.75), math.log(0.25)]))
    assert counts.tolist() == [2.0, 1.0]
    loss = redi_loss(sums[:1], counts[:1], sums[1:], counts[1:], alpha=0.5)
    # -(2 ln 3/4)/2 + 0.5 * (ln 1/4)/1
    expected = -math.log(0.75) + 0.5 * math.log(0.25)
    assert math.isclose(loss.item(), expected, rel_tol=1e-6)
    assert math.isclose(expected, -0.4054651, rel_tol=1e-6)


def test_redi_loss_batch_mean_and_alpha_zero():
    pos_sum = torch.tensor([-4.0, -9.0])
    pos_n = torch.tensor([2.0, 3.0])
    neg_sum = torch.tensor([-10.0, -2.0])
    neg_n = torch.tensor([5.0, 1.0])
    # per pair: 2 + 0.8 * -2 = 0.4 and 3 + 0.8 * -2 = 1.4
    assert math.isclose(redi_loss(pos_sum, pos_n, neg_sum, neg_n, 0.8).item(), 0.9, rel_tol=1e-6)
    assert math.isclose(redi_loss(pos_sum, pos_n, neg_sum, neg_n, 0.0).item(), 2.5, rel_tol=1e-6)


def test_encode_and_collate():
    tok = build_tiny_tokenizer()
    prompt = [{"role": "user", "content": "What is 2 + 3?"}]
    ids, mask = encode_completion(tok, prompt, [{"role": "assistant", "content": "5"}], None)
    n_prompt = len(tok.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True))
    assert len(ids) == len(mask) and 0 < sum(mask) < len(mask)
    assert tok.decode(ids[: mask.index(1)]) == tok.apply_chat_template(
        prompt, tokenize=False, add_generation_prompt=True
    )[:n_prompt]
    assert tok.decode([i for i, m in zip(ids, mask, strict=True) if m]).startswith("5<|im_end|>")
    short, short_mask = encode_completion(
        tok, prompt, [{"role": "assistant", "content": "five " * 50}], 16
    )
    assert len(short) == 16 and short_mask[-1] == 1
    batch = PairCollator(tok.pad_token_id)(
        [{"pos_ids": [5, 6, 7], "pos_mask": [0, 1, 1], "neg_ids": [5, 8], "neg_mask": [0, 1]}]
    )
    assert batch["input_ids"].tolist() == [[5, 6, 7], [5, 8, tok.pad_token_id]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
    assert batch["loss_mask"].tolist() == [[0, 1, 1], [0, 1, 0]]
