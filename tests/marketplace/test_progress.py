import io

from marketplace.progress import ProgressBar


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_in_a_log_it_prints_a_first_line_then_one_per_tenth():
    stream = io.StringIO()
    progress = ProgressBar(100, label="Work", stream=stream)

    for _ in range(100):
        progress.advance()

    lines = stream.getvalue().splitlines()
    assert len(lines) == 11
    assert lines[0].startswith("Work [" + "-" * 30 + "] 1/100")
    assert lines[-1].startswith("Work [" + "#" * 30 + "] 100/100 100%")


def test_on_a_terminal_it_redraws_one_line_and_ends_it():
    stream = FakeTerminal()
    progress = ProgressBar(3, label="Work", stream=stream)

    for _ in range(3):
        progress.advance(note="step")

    output = stream.getvalue()
    assert output.count("\r") == 3
    assert output.endswith("\n")
    assert "3/3 100%" in output


def test_it_never_counts_past_the_total():
    progress = ProgressBar(2, stream=io.StringIO())
    progress.advance(5)
    assert progress.done == 2
