from imgclf.evaluation.machines import describe, machine_notes

PINNED = {"portable": True, "pins": {"ONEDNN_MAX_CPU_ISA": "AVX2"}, "libraries": {"numpy": "2.4.6"}}


def bound(cpu: str) -> dict:
    return {"portable": False, "pins": {}, "libraries": {"numpy": "2.4.6"}, "machine_bound": {"model": cpu}}


def test_pinned_sides_say_the_machine_does_not_matter():
    lines = machine_notes({"train_cnn/lenet": PINNED}, {"train_cnn/lenet": PINNED}, "AMD EPYC")
    assert lines == ["- base: pinned numerics (portable): the same bits on any x86-64 machine",
                     "- workspace: pinned numerics (portable): the same bits on any x86-64 machine (this report ran on AMD EPYC)",
                     "- same pins and libraries on both sides: every difference comes from code, params or data"]


def test_machine_bound_runs_on_two_cpus_are_flagged():
    lines = machine_notes({"train_cnn/lenet": bound("Intel Xeon"), "evaluate": PINNED},
                          {"train_cnn/lenet": bound("AMD EPYC"), "evaluate": PINNED}, "AMD EPYC")
    assert lines[0] == "- base: machine-bound (numerics.portable: false) on Intel Xeon"
    assert lines[2] == ("- made on different hardware without the pins, so their differences may come from the "
                        "machine: train_cnn/lenet")


def test_library_changes_and_missing_records_are_said():
    newer = {**PINNED, "libraries": {"numpy": "2.5.0"}}
    assert machine_notes({"m": PINNED}, {"m": newer}, "x")[-1] == "- library versions changed for: m"
    assert describe(None).startswith("no reports/numerics.json")
