"""Stage options declared once (flows/options.py): fields → flags, values, errors."""

import dataclasses
import doctest
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field
from tracemill.flows import options, reporting
from tracemill.flows.options import (
    Flag,
    OptionError,
    apply_sets,
    cli_fields,
    flag_values,
    model_from_dataclasses,
    validate,
)


class Demo(BaseModel):
    name: Annotated[str, Flag(argument=True)] = Field(description="the name")
    model: Annotated[str, Flag(short="-m")] = Field(description="a model")
    k: Annotated[int, Flag("--samples", old=("--k", "-k"))] = Field(4, ge=1, description="k")
    plots: bool = Field(True, description="draw plots")
    method: Literal["a", "b"] = "a"
    sources: list[str] = Field(default_factory=list, description="sources")
    backend_options: dict[str, Any] = Field(default_factory=dict, description="options")
    levels: str | list[int] | None = Field(None, description="levels")
    bins: Annotated[list[float] | None, Flag(parse=lambda t: [float(x) for x in t.split(",")])] = (
        None
    )
    hidden: Annotated[int, Flag(cli=False)] = 0
    nested: Any = None


def test_fields_become_flags():
    fields = {f.name: f for f in cli_fields(Demo)}
    assert "hidden" not in fields and "nested" not in fields
    assert fields["name"].flag.argument and fields["name"].required
    assert fields["model"].decls() == ["--model", "-m"]
    assert fields["k"].decls() == ["--samples"]
    assert fields["plots"].decls() == ["--plots/--no-plots"]
    assert fields["sources"].long == "--source" and fields["sources"].kind == "list"
    assert fields["backend_options"].long == "--backend-option"
    assert fields["backend_options"].metavar == "KEY=VALUE"
    assert fields["levels"].kind == "text" and fields["bins"].kind == "text"
    assert fields["model"].help_text() == "a model (required)"


def test_flag_values_take_only_what_was_given_and_warn_on_old_spellings():
    fields = cli_fields(Demo)
    warnings = []
    given = {"model": "m", "k": 4, "_old_k_0": 7, "plots": True, "sources": ["a", "b"],
             "backend_options": ["device=cpu", "n=2", "flags=[x, y]"], "bins": "0.5,0"}
    sources = {"model": True, "k": False, "_old_k_0": True, "plots": True, "sources": True,
               "backend_options": True, "bins": True}  # fmt: skip
    values = flag_values(fields, given, warnings.append, sources)
    assert values == {
        "model": "m", "k": 7, "plots": False, "sources": ["a", "b"],
        "backend_options": {"device": "cpu", "n": 2, "flags": ["x", "y"]}, "bins": [0.5, 0.0],
    }  # fmt: skip
    assert warnings == ["--k/-k is deprecated; use --samples"]
    with pytest.raises(OptionError, match="--backend-option expected KEY=VALUE, got 'x'"):
        flag_values(fields, {"backend_options": ["x"]}, warnings.append)


def test_sets_reach_into_mappings_and_know_the_keys():
    values = {"backend_options": {"device": "cpu"}}
    apply_sets(Demo, values, ["backend_options.batch=8", "k=3", "levels=1-10"])
    assert values == {"backend_options": {"device": "cpu", "batch": 8}, "k": 3, "levels": "1-10"}
    with pytest.raises(OptionError, match="--set kk: unknown key"):
        apply_sets(Demo, values, ["kk=1"])
    with pytest.raises(OptionError, match="'k' is not a mapping"):
        apply_sets(Demo, values, ["k.x=1"])


def test_validation_errors_name_the_flags():
    with pytest.raises(OptionError) as err:
        validate(Demo, {"k": 0, "method": "c"})
    text = str(err.value)
    assert "NAME is required" in text and "--model is required" in text
    assert "--samples: Input should be greater than or equal to 1" in text
    assert "--method: Input should be 'a' or 'b'" in text


def test_flags_from_dataclasses_say_which_kinds_take_them():
    @dataclasses.dataclass
    class Common:
        seed: int = 0
        """Seed of the draw."""

    @dataclasses.dataclass
    class OnlyA:
        order: str = "short"
        """Order of rows."""

    model = model_from_dataclasses("Flags", {"a": [Common, OnlyA], "b": [Common]})
    fields = {f.name: f for f in cli_fields(model)}
    assert fields["seed"].description == "Seed of the draw" and fields["seed"].default == 0
    assert fields["order"].description == "Order of rows (a)"


@pytest.mark.parametrize("module", [options, reporting])
def test_doc_examples(module):
    result = doctest.testmod(module, verbose=False)
    assert result.failed == 0 and result.attempted > 0
