"""Unit tests of the data layer: validation messages, loaders, encoding, design, persistence."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import pluraleval as pe
from pluraleval import JudgmentDataError

# Any UserWarning a test does not expect (pytest.warns) is a failure.
pytestmark = pytest.mark.filterwarnings("error::UserWarning")

LIKERT = [1, 2, 3, 4, 5]


def judgments(**overrides) -> pd.DataFrame:
    """2 systems x 1 prompt, 2 outputs, 2 personas, fully crossed (4 judgments)."""
    frame = pd.DataFrame({
        "output": ["o1", "o1", "o2", "o2"],
        "persona": ["p1", "p2", "p1", "p2"],
        "rating": [1, 3, 2, 5],
        "system": ["A", "A", "B", "B"],
        "prompt": ["q1", "q1", "q1", "q1"],
        "country": ["US", "DE", "US", "DE"],
    })
    for col, values in overrides.items():
        frame[col] = values
    return frame


def build(frame: pd.DataFrame, **options) -> pe.Judgments:
    options.setdefault("scale", LIKERT)
    return pe.Judgments.from_frame(frame, **options)


def error_of(frame: pd.DataFrame, **options) -> str:
    """Message of the JudgmentDataError that loading ``frame`` must raise."""
    with pytest.raises(JudgmentDataError) as info:
        build(frame, **options)
    assert isinstance(info.value, ValueError)
    return str(info.value)


def assert_mentions(message: str, *parts: str) -> None:
    for part in parts:
        assert part in message, f"{part!r} not in message: {message}"


# ---------------------------------------------------------------------- validation: columns
def test_error_type_is_a_value_error():
    assert issubclass(JudgmentDataError, ValueError)


@pytest.mark.parametrize("column", ["output", "persona", "rating"])
def test_missing_required_column(column):
    msg = error_of(judgments().drop(columns=column))
    assert_mentions(msg, f"column {column!r}", f"({'for ' + column})", "its columns are",
                    f"{column}='<your column name>'")


def test_mapped_column_absent():
    msg = error_of(judgments(), output="item_id")
    assert_mentions(msg, "column 'item_id'", "for output", "'persona'", "output='<your column")


def test_mapped_optional_column_absent():
    msg = error_of(judgments(), system="model_name")
    assert_mentions(msg, "column 'model_name'", "for system")


def test_empty_table():
    msg = error_of(judgments().iloc[:0])
    assert_mentions(msg, "empty", "0 rows", "'output'", "at least one judgment")


def test_column_named_like_a_role_mapped_elsewhere():
    # a text 'rating' column next to the numeric 'score' used as rating: would be confused
    frame = judgments(score=[1, 3, 2, 5], rating=["bad", "ok", "bad", "good"])
    msg = error_of(frame, rating="score")
    assert_mentions(msg, "column 'rating'", "mapped to 'score'", "Rename or drop")


def test_column_named_like_a_switched_off_role():
    msg = error_of(judgments(), system=None)
    assert_mentions(msg, "column 'system'", "switched off", "Rename or drop")


def test_missing_output_id():
    msg = error_of(judgments(output=["o1", None, "o2", "o2"]))
    assert_mentions(msg, "column 'output'", "1 row(s): row 1", "fill these in or remove")


# ---------------------------------------------------------------------- validation: ratings
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_nonfinite_rating(bad):
    msg = error_of(judgments(rating=[1.0, bad, 2.0, 5.0]))
    assert_mentions(msg, "column 'rating'", "non-finite", f"1 row(s): row 1 (rating={bad!r})",
                    "fix or remove these rows")


def test_many_bad_rows_are_quoted_first_few_with_count():
    frame = pd.DataFrame({"output": [f"o{i}" for i in range(8)], "persona": ["p1"] * 8,
                          "rating": [np.nan] * 7 + [1.0]})
    msg = error_of(frame)
    assert_mentions(msg, "7 row(s)", "row 0 (rating=nan)", "row 4", "and 2 more")
    assert "row 5" not in msg


def test_rating_outside_scale():
    msg = error_of(judgments(rating=[1, 7, 2, 0]))
    assert_mentions(msg, "column 'rating'", "outside the declared scale [1, 2, 3, 4, 5]",
                    "2 row(s): row 1 (rating=7), row 3 (rating=0)", "declare the scale")


def test_non_integer_on_ordinal_scale():
    msg = error_of(judgments(rating=[1, 2.5, 2, 5]))
    assert_mentions(msg, "column 'rating'", "non-integer", "1 row(s): row 1 (rating=2.5)",
                    "round them yourself")


def test_text_on_numeric_scale():
    msg = error_of(judgments(rating=[1, 2, "three", 4]))
    assert_mentions(msg, "non-numeric", "row 2 (rating='three')")


def test_rating_error_names_the_users_column():
    frame = judgments(rating=[1, 9, 2, 5]).rename(columns={"rating": "score"})
    msg = error_of(frame, rating="score")
    assert_mentions(msg, "column 'score'", "row 1")


def test_text_label_scale():
    labels = ["No", "Unsure", "Yes"]
    j = build(judgments(rating=["Yes", "No", "Unsure", "Yes"]), scale=labels)
    np.testing.assert_array_equal(j.codes["rating"], [2, 0, 1, 2])
    assert j.coords["rating_level"] == labels
    assert j.coords["cutpoint"] == ["No|Unsure", "Unsure|Yes"]
    msg = error_of(judgments(rating=["Yes", "Maybe", "No", "Yes"]), scale=labels)
    assert_mentions(msg, "column 'rating'", "outside the declared scale ['No', 'Unsure', 'Yes']",
                    "1 row(s): row 1 (rating='Maybe')", "scale=[...]")
    msg = error_of(judgments(rating=["Yes", None, "No", "Yes"]), scale=labels)
    assert_mentions(msg, "missing ratings", "row 1", "fill in or remove")


def test_binary_scale_accepts_aliases():
    frame = pd.DataFrame({"output": [f"o{i}" for i in range(6)], "persona": ["p1"] * 6,
                          "rating": pd.Series([0, 1, True, False, "yes", "no"], dtype=object)})
    j = build(frame, scale="binary")
    np.testing.assert_array_equal(j.codes["rating"], [0, 1, 1, 0, 1, 0])
    assert j.scale.kind == "binary"
    assert j.coords["rating_level"] == [0, 1]


def test_binary_scale_rejects_two():
    msg = error_of(judgments(rating=[0, 1, 2, 1]), scale="binary")
    assert_mentions(msg, "column 'rating'", "outside the declared scale [0, 1]",
                    "1 row(s): row 2 (rating=2)")


def test_unknown_scale_name():
    msg = error_of(judgments(), scale="likert")
    assert_mentions(msg, "scale='likert'", "scale='binary'")


def test_scale_inferred_only_with_warning():
    with pytest.warns(UserWarning, match=re.escape("inferred ordered levels [1, 2, 3, 5]")):
        j = build(judgments(), scale=None)
    assert j.scale.levels == (1, 2, 3, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert build(judgments(), scale=LIKERT).scale.levels == tuple(LIKERT)


# ---------------------------------------------------------------------- validation: structure
def test_duplicate_judgments_rejected_unless_repeats_allowed():
    frame = pd.concat([judgments(), judgments().iloc[[0]]], ignore_index=True)
    msg = error_of(frame)
    assert_mentions(msg, "more than once", "output/persona", "2 row(s): row 0 (persona='p1'), "
                    "row 4 (persona='p1')", "repeats='allow'")
    j = build(frame, repeats="allow")
    assert j.n_judgments == len(frame) == 5
    assert j.repeats is True
    assert j.design().fill == 1.0


def test_duplicate_message_names_mapped_columns():
    frame = pd.concat([judgments(), judgments().iloc[[2]]], ignore_index=True)
    frame = frame.rename(columns={"output": "item_id", "persona": "rater_id"})
    msg = error_of(frame, output="item_id", persona="rater_id")
    assert_mentions(msg, "item_id/rater_id", "row 2", "row 4")


def test_persona_missing_from_persona_table():
    personas = pd.DataFrame({"persona": ["p1"], "country": ["US"]})
    msg = error_of(judgments().drop(columns="country"), personas=personas)
    assert_mentions(msg, "column 'persona'", "missing from the persona table",
                    "2 row(s): row 1 (persona='p2'), row 3 (persona='p2')",
                    "Add them to the persona table")


def test_persona_table_without_key():
    personas = pd.DataFrame({"rater": ["p1", "p2"], "country": ["US", "DE"]})
    msg = error_of(judgments().drop(columns="country"), personas=personas)
    assert_mentions(msg, "no column 'persona'", "['rater', 'country']", "persona=...")


def test_persona_table_duplicate_persona():
    personas = pd.DataFrame({"persona": ["p1", "p2", "p1"], "country": ["US", "DE", "FR"]})
    msg = error_of(judgments().drop(columns="country"), personas=personas)
    assert_mentions(msg, "more than once", "2 row(s): row 0 (persona='p1'), row 2",
                    "one row per persona")


def test_unused_persona_in_persona_table_warns_and_is_dropped_from_personas():
    personas = pd.DataFrame({"persona": ["p1", "p2", "p9"], "country": ["US", "DE", "FR"]})
    with pytest.warns(UserWarning, match=r"1 persona\(s\).*'p9'"):
        j = build(judgments().drop(columns="country"), personas=personas)
    assert j.personas["persona"].tolist() == ["p1", "p2"]
    assert j.n_judgments == 4


def test_missing_attribute_in_persona_table():
    personas = pd.DataFrame({"persona": ["p1", "p2"], "country": ["US", None]})
    frame = judgments().drop(columns="country")
    msg = error_of(frame, personas=personas)
    assert_mentions(msg, "attribute 'country'", "persona table", "1 row(s): row 1 (persona='p2')",
                    "missing_attributes='level'")
    j = build(frame, personas=personas, missing_attributes="level")
    assert j.coords["country"] == ["US", "missing"]
    np.testing.assert_array_equal(j.codes["persona_country"], [0, 1])
    assert j.n_judgments == 4


def test_missing_attribute_in_judgments_table():
    frame = judgments(country=["US", None, "US", None])
    msg = error_of(frame, attributes=["country"])
    assert_mentions(msg, "attribute 'country'", "judgments table",
                    "2 row(s): row 1 (persona='p2'), row 3 (persona='p2')")
    j = build(frame, attributes=["country"], missing_attributes="level")
    assert j.personas["country"].tolist() == ["US", "missing"]


def test_attribute_not_constant_within_persona():
    msg = error_of(judgments(country=["US", "DE", "FR", "DE"]), attributes=["country"])
    assert_mentions(msg, "column 'country'", "one value per persona", "['p1']",
                    "2 row(s): row 0 (country='US'), row 2 (country='FR')", "fix the values")


def test_attribute_named_but_absent():
    msg = error_of(judgments(), attributes=["age_band"])
    assert_mentions(msg, "column 'age_band'", "for attributes")


@pytest.mark.parametrize(("column", "values"), [("system", ["A", "B", "B", "B"]),
                                                ("prompt", ["q1", "q2", "q1", "q1"])])
def test_output_mapped_to_two_systems_or_prompts(column, values):
    msg = error_of(judgments(**{column: values}))
    assert_mentions(msg, f"column {column!r}", "one value per output", "1 output(s)", "['o1']",
                    f"2 row(s): row 0 ({column}={values[0]!r}), row 1 ({column}={values[1]!r})",
                    "distinct output ids")


def test_require_levels_single_level():
    j = build(judgments(country="US", system="A"), attributes=["country"])
    for name in ("country", "system"):
        with pytest.raises(JudgmentDataError) as info:
            j.require_levels(name, purpose="a group contrast")
        assert_mentions(str(info.value), repr(name), "1 level(s)", "a group contrast",
                        "at least 2", "Drop it from the model")
    with pytest.raises(JudgmentDataError, match="do not have; available"):
        j.require_levels("criterion")
    build(judgments(), attributes=["country"]).require_levels("country")  # two levels: fine


def test_disconnected_design_warns_naming_components():
    frame = pd.DataFrame({"output": ["o1", "o2", "o3", "o4"], "persona": ["p1", "p1", "p2", "p2"],
                          "rating": [1, 2, 3, 4]})
    with pytest.warns(UserWarning, match="disconnected") as record:
        j = build(frame)
    msg = str(record[0].message)
    assert_mentions(msg, "2 groups", "['o1', 'o2']", "['o3', 'o4']", "bridge")
    d = j.design()
    assert not d.connected
    assert d.components == [["o1", "o2"], ["o3", "o4"]]


def test_covariate_with_nan():
    frame = judgments(length=[10.0, 10.0, np.nan, np.nan])
    msg = error_of(frame, covariates=["length"])
    assert_mentions(msg, "column 'length'", "output covariate", "numeric and finite",
                    "2 row(s): row 2 (length=nan), row 3 (length=nan)", "Fill in or fix")


def test_categorical_covariate_kept_and_missing_level_rejected():
    j = build(judgments(style=["md", "md", "plain", "plain"]), covariates=["style"])
    assert list(j.output_table["style"]) == ["md", "plain"]
    msg = error_of(judgments(style=["md", "md", None, None]), covariates=["style"])
    assert_mentions(msg, "column 'style'", "categorical output covariate",
                    "2 row(s): row 2", "Fill in")


def test_covariate_not_constant_within_output():
    msg = error_of(judgments(length=[10.0, 11.0, 5.0, 5.0]), covariates=["length"])
    assert_mentions(msg, "column 'length'", "one value per output", "['o1']")


def test_covariate_absent():
    msg = error_of(judgments(), covariates=["length"])
    assert_mentions(msg, "column 'length'", "for covariates")


def test_position_non_numeric():
    msg = error_of(judgments(position=[1, "two", 1, 2]))
    assert_mentions(msg, "column 'position'", "position in the session",
                    "1 row(s): row 1 (position='two')")


def test_invalid_options():
    with pytest.raises(JudgmentDataError, match="repeats='sometimes'"):
        build(judgments(), repeats="sometimes")
    with pytest.raises(JudgmentDataError, match="missing_attributes='drop'"):
        build(judgments(), missing_attributes="drop")
    with pytest.raises(JudgmentDataError, match="must be a pandas DataFrame"):
        build(judgments().to_dict("list"))


# ---------------------------------------------------------------------- nothing dropped
@pytest.mark.parametrize("options", [
    {}, {"attributes": ["country"]}, {"repeats": "allow"},
    {"attributes": ["country"], "missing_attributes": "level"}])
def test_every_row_is_kept(options):
    frame = pd.concat([judgments(), judgments().iloc[[1, 3]]], ignore_index=True) \
        if options.get("repeats") else judgments()
    before = frame.copy()
    j = build(frame, **options)
    assert j.n_judgments == len(frame)
    assert len(j.codes["rating"]) == len(j.codes["output"]) == len(frame)
    pd.testing.assert_frame_equal(frame, before)  # the user's frame is not modified


# ---------------------------------------------------------------------- loaders
def _write(frame: pd.DataFrame, path):
    suffix = path.suffix
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True)


def _assert_same_encoding(a: pe.Judgments, b: pe.Judgments):
    assert a.coords == b.coords
    assert a.codes.keys() == b.codes.keys()
    for key in a.codes:
        np.testing.assert_array_equal(a.codes[key], b.codes[key], err_msg=key)
    assert a.attributes == b.attributes
    assert a.n_judgments == b.n_judgments


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_loaders_round_trip(tmp_path, suffix):
    frame = judgments(position=[1, 1, 2, 2], output=[101, 101, 102, 102])
    expected = build(frame, attributes=["country"])

    path = tmp_path / f"judgments{suffix}"
    _write(frame, path)
    same_frame = pe.Judgments.read(path, attributes=["country"], scale=LIKERT)
    _assert_same_encoding(same_frame, expected)
    assert same_frame.coords["output"] == [101, 102]
    assert all(type(v) is int for v in same_frame.coords["output"])

    persona_path = tmp_path / f"personas{suffix}"
    _write(frame[["persona", "country"]].drop_duplicates(), persona_path)
    _write(frame.drop(columns="country"), path)
    separate = pe.Judgments.read(path, personas=persona_path, scale=LIKERT)
    _assert_same_encoding(separate, expected)


def test_jsonl_keeps_string_ids(tmp_path):
    frame = judgments(persona=["007", "010", "007", "010"])
    path = tmp_path / "j.jsonl"
    _write(frame, path)
    j = pe.Judgments.read(path, scale=LIKERT)
    assert j.coords["persona"] == ["007", "010"]


def test_read_with_persona_frame_and_mapping(tmp_path):
    frame = judgments().rename(columns={"persona": "rater_id"})
    path = tmp_path / "j.parquet"
    _write(frame.drop(columns="country"), path)
    personas = frame[["rater_id", "country"]].drop_duplicates()
    j = pe.Judgments.read(path, personas=personas, persona="rater_id", scale=LIKERT)
    assert j.coords["country"] == ["DE", "US"]
    np.testing.assert_array_equal(j.codes["persona_country"], [1, 0])


def test_unknown_file_type(tmp_path):
    path = tmp_path / "judgments.xlsx"
    path.write_text("not a table")
    for reader in (pe.read_table, pe.Judgments.read):
        with pytest.raises(JudgmentDataError) as info:
            reader(path)
        assert_mentions(str(info.value), "'judgments.xlsx'", "'.xlsx'", ".csv, .parquet or .jsonl")
    with pytest.raises(FileNotFoundError):
        pe.read_table(tmp_path / "absent.csv")


# ---------------------------------------------------------------------- persistence
def _through_netcdf(j: pe.Judgments, path) -> pe.Judgments:
    j.to_datatree().to_netcdf(path, engine="h5netcdf")
    with xr.open_datatree(path, engine="h5netcdf") as tree:
        tree = tree.load()
    return pe.Judgments.from_datatree(tree)


def _rich_frame() -> tuple[pd.DataFrame, pd.DataFrame]:
    table = judgments(
        system=pd.Categorical(["A", "A", "B", "B"], categories=["B", "A"], ordered=True),
        note=["long", None, "short", "long"],
        tokens=np.array([120, 80, 95, 101], dtype=np.int64),
        latency=[0.5, np.nan, 1.25, 2.0],
    ).drop(columns="country")
    table.index = pd.Index([40, 30, 20, 10], name="judgment_id")
    personas = pd.DataFrame({
        "persona": ["p2", "p1"],
        "age_band": pd.Categorical(["18-29", "60+"], categories=["18-29", "30-59", "60+"]),
        "country": ["DE", "US"],
        "age": np.array([25, 64], dtype=np.int64),
        "trust": [0.25, 0.75],
    })
    return table, personas


def test_datatree_round_trip_netcdf(tmp_path):
    table, personas = _rich_frame()
    j = build(table, personas=personas)
    assert j.table.index.name == "judgment_id"
    assert str(j.table["note"].dtype) == "str"
    back = _through_netcdf(j, tmp_path / "judgments.nc")
    pd.testing.assert_frame_equal(back.table, j.table)
    pd.testing.assert_frame_equal(back.personas, j.personas)
    assert back.table["system"].cat.ordered
    assert back.scale == j.scale
    assert back.attributes == ["age_band", "country", "age", "trust"]
    assert back.source_columns == j.source_columns
    _assert_same_encoding(back, j)


@pytest.mark.parametrize("case", ["missing_level", "bool_rating", "nullable_int", "str_index"])
def test_datatree_round_trip_other_dtypes(tmp_path, case):
    frame, options = judgments(), {"attributes": ["country"]}
    if case == "missing_level":  # personas' attribute becomes object dtype
        frame["country"] = ["US", None, "US", None]
        options["missing_attributes"] = "level"
    elif case == "bool_rating":  # netCDF has no bool
        frame["rating"] = [True, False, True, True]
        options["scale"] = "binary"
    elif case == "nullable_int":
        frame["tokens"] = pd.array([1, None, 3, 4], dtype="Int64")
    else:
        frame.index = pd.Index(["a", "b", "c", "d"], name="key")
    j = build(frame, **options)
    back = _through_netcdf(j, tmp_path / "j.nc")
    pd.testing.assert_frame_equal(back.table, j.table)
    pd.testing.assert_frame_equal(back.personas, j.personas)
    _assert_same_encoding(back, j)


# ---------------------------------------------------------------------- encoding
def test_codes_map_back_to_labels():
    frame = judgments(output=["x9", "x9", "a1", "a1"])
    j = build(frame, attributes=["country"])
    c = j.coords
    assert c["output"] == ["a1", "x9"] and c["persona"] == ["p1", "p2"]
    assert [c["output"][k] for k in j.codes["output"]] == frame["output"].tolist()
    assert [c["persona"][k] for k in j.codes["persona"]] == frame["persona"].tolist()
    assert [c["rating_level"][k] for k in j.codes["rating"]] == frame["rating"].tolist()
    # per output / per persona codes line up with coords order
    assert [c["system"][k] for k in j.codes["output_system"]] == ["B", "A"]
    assert [c["prompt"][k] for k in j.codes["output_prompt"]] == ["q1", "q1"]
    assert [c["country"][k] for k in j.codes["persona_country"]] == ["US", "DE"]
    assert j.output_table["output"].tolist() == ["a1", "x9"]


def test_coords_keep_label_types():
    frame = judgments(output=[7, 7, 3, 3], persona=["p1", "p2", "p1", "p2"], system=[2, 2, 1, 1])
    j = build(frame)
    assert j.coords["output"] == [3, 7]
    assert all(type(v) is int for v in j.coords["output"] + j.coords["system"])
    assert j.coords["system"] == [1, 2]
    assert all(type(v) is str for v in j.coords["persona"])
    assert j.coords["rating_level"] == LIKERT
    assert j.coords["cutpoint"] == ["1|2", "2|3", "3|4", "4|5"]


def test_categorical_order_is_kept_in_coords():
    frame = judgments(system=pd.Categorical(["A", "A", "B", "B"], categories=["B", "C", "A"]))
    j = build(frame)
    assert j.coords["system"] == ["B", "A"]  # category order, unused 'C' dropped
    np.testing.assert_array_equal(j.codes["output_system"], [1, 0])


def test_column_mapping():
    frame = judgments().rename(columns={"output": "item_id", "persona": "rater_id",
                                        "rating": "score"})
    j = build(frame, output="item_id", persona="rater_id", rating="score",
              attributes=["country"])
    reference = build(judgments(), attributes=["country"])
    _assert_same_encoding(j, reference)
    assert {"output", "persona", "rating"} <= set(j.table.columns)
    assert "item_id" not in j.table.columns
    assert j.source_columns["output"] == "item_id"
    assert j.source_columns["persona"] == "rater_id"
    assert j.source_columns["rating"] == "score"


@pytest.mark.parametrize(("pairs", "crossed", "fill", "connected"), [
    ([("o1", "p1"), ("o1", "p2"), ("o2", "p1"), ("o2", "p2")], True, 1.0, True),
    ([("o1", "p1"), ("o1", "p2"), ("o2", "p2")], False, 0.75, True),
    ([("o1", "p1"), ("o2", "p1"), ("o3", "p2")], False, 0.5, False),
])
def test_design(pairs, crossed, fill, connected):
    frame = pd.DataFrame(pairs, columns=["output", "persona"]).assign(rating=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the disconnected case warns (tested above)
        d = build(frame).design()
    assert d.fully_crossed is crossed
    assert d.fill == pytest.approx(fill)
    assert d.connected is connected
    assert len(d.components) == (1 if connected else 2)


def test_counts_by_role_and_attribute():
    j = build(judgments(), attributes=["country"])
    by_system = j.counts("system")
    assert by_system["system"].tolist() == ["A", "B"]
    assert by_system["n_judgments"].tolist() == [2, 2]
    assert by_system["n_outputs"].tolist() == [1, 1]
    assert by_system["n_personas"].tolist() == [2, 2]
    # ratings 1,3 -> codes 0,2 (A); 2,5 -> codes 1,4 (B)
    assert by_system["mean_rating_code"].tolist() == [1.0, 2.5]
    by_country = j.counts("country")
    assert by_country["country"].tolist() == ["DE", "US"]
    assert by_country["n_judgments"].tolist() == [2, 2]
    assert by_country["n_personas"].tolist() == [1, 1]
    assert by_country["mean_rating_code"].tolist() == [3.0, 0.5]
    with pytest.raises(JudgmentDataError, match="cannot count by 'age'"):
        j.counts("age")


def test_summary_and_repr():
    j = build(judgments(), attributes=["country"])
    facts = dict(j.summary().itertuples(index=False))
    assert facts["judgments"] == 4 and facts["outputs"] == 2 and facts["country groups"] == 2
    assert bool(facts["fully crossed"]) and facts["fill"] == 1.0
    assert repr(j).startswith("Judgments(4 judgments; output=2, persona=2")


def test_two_level_numeric_scale_uses_its_own_levels():
    frame = judgments(rating=[1, 2, 2, 1])
    j = build(frame, scale=[1, 2])
    assert list(j.codes["rating"]) == [0, 1, 1, 0]
    assert_mentions(error_of(judgments(rating=[1, 2, 0, 1]), scale=[1, 2]),
                    "outside the declared scale", "rating=0")
