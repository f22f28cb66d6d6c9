"""The book's promises to its readers, checked on the lesson sources and on the built pages.

    pytest tests/test_pages.py -m "not book"   # the source checks only: seconds

A reader never sees plumbing (``glue(``, ``getsource``), never scrolls code sideways, never
meets raw LaTeX, and ends every lesson with exercises whose solutions open on a click; every
picture says in words what it shows. The checks on built pages share the session's one build
of the book (``built_book``, tests/conftest.py).
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import jupytext
import pytest

from .book import BOOK_ROOT, LESSONS

TEXT_COLUMN = 88  # characters of code that fit the page's text column without scrolling
HIDDEN_TAGS = {"remove-cell", "remove-input"}
PLUMBING = ("glue(", "getsource", "inspect.")
EXERCISE_LESSONS = tuple(lesson for lesson in LESSONS if lesson != "10_recap")
MIN_EXERCISES, MAX_EXERCISES = 2, 4
MIN_ALT_WORDS = 6
PAGES_OF_TABLES = {"10_recap"}  # the recap shows its runs as a table, not a figure
FENCE = r"^(?P<fence>`{3,}|:{3,})"
EXERCISE = re.compile(
    FENCE + r"\{exercise\}(?P<title>[^\n]*)\n:label: (?P<label>\S+)", re.MULTILINE
)
SOLUTION = re.compile(
    FENCE + r"\{solution\} (?P<label>\S+)\n(?P<options>(?::[^\n]*\n)*)", re.MULTILINE
)
LATEX_LEFTOVER = re.compile(r"\$|\\[A-Za-z]+|\^\{|_\{")
# The API reference quotes docstrings, whose plain-text maths may write h_{l-1} or e^{-x}:
# there only real LaTeX (dollars, backslash commands) would be a page showing raw LaTeX.
LATEX_IN_DOCSTRINGS = re.compile(r"\$|\\[A-Za-z]+")


def lesson_source(lesson: str) -> str:
    return (BOOK_ROOT / "lessons" / f"{lesson}.md").read_text()


def executed_pages() -> list[str]:
    """Every page that runs code: the lessons, and the pages of docs/ that are notebooks."""
    documents = [f"lessons/{lesson}" for lesson in LESSONS]
    for page in sorted((BOOK_ROOT / "docs").glob("*.md")):
        if page.read_text().startswith("---") and "kernelspec:" in page.read_text():
            documents.append(f"docs/{page.stem}")
    return documents


def code_cells(document: str) -> list:
    notebook = jupytext.read(BOOK_ROOT / f"{document}.md")
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def is_hidden(cell) -> bool:
    return bool(HIDDEN_TAGS & set(cell.metadata.get("tags", [])))


# --- the lesson sources ------------------------------------------------------------------------


@pytest.mark.parametrize("document", executed_pages())
def test_code_lines_fit_the_text_column(document):
    too_long = [
        line for cell in code_cells(document) for line in cell.source.splitlines()
        if len(line) > TEXT_COLUMN
    ]
    assert not too_long, f"{document}: code lines over {TEXT_COLUMN} characters: {too_long}"


@pytest.mark.parametrize("document", executed_pages())
def test_plumbing_lives_in_hidden_cells(document):
    visible = [cell.source for cell in code_cells(document) if not is_hidden(cell)]
    shown = [(word, source) for source in visible for word in PLUMBING if word in source]
    assert not shown, f"{document}: plumbing in a visible cell: {shown}"


@pytest.mark.parametrize("lesson", EXERCISE_LESSONS)
def test_lesson_ends_with_exercises_each_with_a_hidden_solution(lesson):
    source = lesson_source(lesson)
    exercises = [match["label"] for match in EXERCISE.finditer(source)]
    assert MIN_EXERCISES <= len(exercises) <= MAX_EXERCISES, (lesson, exercises)
    for match in EXERCISE.finditer(source):  # a backtick fence's info string holds none
        assert "`" not in match["title"] or match["fence"][0] == ":", (lesson, match["title"])
    solutions = {match["label"]: match["options"] for match in SOLUTION.finditer(source)}
    assert sorted(solutions) == sorted(exercises), f"{lesson}: one solution per exercise"
    for label, options in solutions.items():
        assert ":class: dropdown" in options, f"{lesson}: solution {label} is not folded"
    sections = re.findall(r"^## (.+)$", source, re.MULTILINE)
    assert sections[-1] == "Exercises", f"{lesson} must end with its exercises: {sections}"


FRAMEWORK_CALLS = {
    "05_keras": (
        "keras.Sequential([", 'keras.layers.Dense(784, activation="relu"',
        'keras.layers.Dense(16, activation="relu"', 'keras.layers.Dense(10, activation="softmax"',
        ".compile(", ".fit(", "validation_data=", "keras.callbacks.EarlyStopping(",
        "restore_best_weights=True", ".evaluate(", ".predict(", "keras.Input(", "keras.Model(",
        "functional.fit(", "history.history", "keras.initializers.GlorotUniform(",
    ),
    "06_pytorch": (
        "datasets.MNIST(", "download=False", "transform=ToTensor()", "SubsetRandomSampler(",
        'torch.device("cuda" if torch.cuda.is_available() else "cpu")', ".to(device)",
        "DataLoader(", "shuffle=True", "nn.Sequential(", "F.relu(",
        "F.log_softmax(", "optimizer.zero_grad()", "loss.backward()", "optimizer.step()",
        "model.eval()", "torch.no_grad()", "state_dict()", "load_state_dict(",
        "weights_only=True", ".grad", "nn.CrossEntropyLoss()", "nn.NLLLoss()",
        "torch.optim.Adam(",
    ),
    "07_tensorflow_low_level": (
        "tf.Variable(", "tf.random.stateless_normal(", "tf.random.stateless_uniform(",
        "tf.GradientTape()", "tape.gradient(", "@tf.function", "tf.data.Dataset",
        "keras.optimizers.Adam(", "optimizer.build(", "apply_gradients(",
        "sparse_softmax_cross_entropy_with_logits(", "variable.assign(",
    ),
    "08_fastai": (
        "DataLoaders.from_dsets(", "DataBlock(", "Learner(", "loss_func=", "metrics=accuracy",
        ".lr_find(", ".fit_one_cycle(", "ClassificationInterpretation.from_learner(",
    ),
}
# forcemlp's own training plumbing, which a reader copying the page could not use as the
# framework's code: it may appear in hidden cells only (issue 18).
PLUMBING_OF_LESSON = {
    "06_pytorch": ("History", "EpochMetrics", "torch_mlp", "seed_style_loaders"),
    "08_fastai": ("fastai_mlp", "PixelRows", "LabelRows", "WholeBatchLoader",
                  "seeded_learner", "getsource"),
}


@pytest.mark.parametrize("lesson", PLUMBING_OF_LESSON)
def test_framework_lessons_show_no_forcemlp_plumbing(lesson):
    notebook = jupytext.read(BOOK_ROOT / "lessons" / f"{lesson}.md")
    shown = "\n".join(cell.source for cell in notebook.cells
                      if cell.cell_type == "markdown" or not is_hidden(cell))
    found = [name for name in PLUMBING_OF_LESSON[lesson] if name in shown]
    assert not found, f"{lesson} shows {found}"


@pytest.mark.parametrize("lesson", FRAMEWORK_CALLS)
def test_framework_lessons_show_the_framework_calls(lesson):
    """The calls a reader must learn are in the lesson's visible, executed cells."""
    visible = "\n".join(cell.source for cell in code_cells(f"lessons/{lesson}")
                        if not is_hidden(cell))
    missing = [call for call in FRAMEWORK_CALLS[lesson] if call not in visible]
    assert not missing, f"{lesson} does not show {missing}"


def test_tensorflow_lesson_trains_in_the_cell_that_holds_the_tape():
    cells = [cell.source for cell in code_cells("lessons/07_tensorflow_low_level")
             if not is_hidden(cell)]
    training = [source for source in cells if "for epoch in" in source]
    assert training and all("tf.GradientTape()" in source for source in training)


# forcemlp's own trainers and records, which lessons 5 and 7 keep out of the reader's code
PACKAGE_TRAINING = ("tf_lowlevel", "keras_mlp", "runner", "History", "EpochMetrics",
                    "RunResult", "recipes")
SOLUTION_CODE = re.compile(r"\{solution\} (?P<label>\S+)\n.*?```python\n(?P<code>.*?)```",
                           re.DOTALL)


@pytest.mark.parametrize("lesson", ["05_keras", "07_tensorflow_low_level"])
def test_keras_and_tensorflow_lessons_train_without_package_plumbing(lesson):
    visible = "\n".join(cell.source for cell in code_cells(f"lessons/{lesson}")
                        if not is_hidden(cell))
    assert not [name for name in PACKAGE_TRAINING if name in visible]


@pytest.mark.parametrize("lesson", ["05_keras", "07_tensorflow_low_level"])
def test_write_it_yourself_solution_is_the_code_that_computed_its_numbers(lesson):
    """The folded solution shows code; a hidden cell runs that very code and glues what it
    printed, so the solution's numbers cannot drift from its code."""
    hidden = [cell.source for cell in code_cells(f"lessons/{lesson}") if is_hidden(cell)]
    solutions = {match["label"]: match["code"]
                 for match in SOLUTION_CODE.finditer(lesson_source(lesson))}
    written = [code for label, code in solutions.items() if label.endswith("-fashion")]
    assert len(written) == 1, sorted(solutions)
    ran = [source.split("# end of the solution")[0] for source in hidden
           if "# end of the solution" in source]
    assert len(ran) == 1
    assert written[0].strip() in ran[0] and "check_" in written[0]


def test_exercise_labels_are_unique_across_the_book():
    labels = [match["label"] for lesson in LESSONS
              for match in EXERCISE.finditer(lesson_source(lesson))]
    assert len(labels) == len(set(labels))


# --- the built pages ---------------------------------------------------------------------------


class PageReader(HTMLParser):
    """Collects what a reader sees on a page: prose text, code lines, images, exercises.

    Text inside scripts, styles, code and MathJax's math elements is not prose; a visible
    code cell is the ``<pre>`` inside a ``cell_input`` block (hidden cells are not on the page),
    and what it printed the ``<pre>`` inside its ``cell_output`` block.
    """

    NOT_PROSE = frozenset({"script", "style", "pre", "code", "textarea"})
    VOID = frozenset({"img", "br", "hr", "meta", "link", "input", "source", "wbr", "col", "area",
                      "base"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, set[str]]] = []
        self.prose: list[str] = []
        self.input_code: list[str] = []
        self.output_text: list[str] = []
        self.images: list[dict[str, str | None]] = []
        self.exercises = 0
        self.solutions: list[set[str]] = []

    def handle_starttag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        values = dict(attributes)
        classes = set((values.get("class") or "").split())
        if tag == "img":
            self.images.append(values)
        if tag == "div" and {"exercise", "admonition"} <= classes:
            self.exercises += 1
        if tag == "div" and {"solution", "admonition"} <= classes:
            self.solutions.append(classes)
        if tag not in self.VOID:
            self.stack.append((tag, classes))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth][0] == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        tags = {tag for tag, _ in self.stack}
        classes = set().union(*(classes for _, classes in self.stack)) if self.stack else set()
        if "pre" in tags and "cell_input" in classes:
            self.input_code.append(data)
        elif "pre" in tags and "cell_output" in classes:
            self.output_text.append(data)
        elif not (tags & self.NOT_PROSE or "math" in classes):
            self.prose.append(data)


def read_page(path: Path) -> PageReader:
    reader = PageReader()
    reader.feed(path.read_text())
    return reader


def site_pages(site) -> list[Path]:
    return sorted(
        path for path in site.html.rglob("*.html")
        if not {"_modules", "_static", "_sources"} & set(path.relative_to(site.html).parts)
        and path.name not in {"genindex.html", "search.html", "py-modindex.html"}
    )


@pytest.mark.book
def test_no_page_shows_unrendered_latex_or_plumbing(built_book):
    pages = site_pages(built_book)
    assert len(pages) >= len(LESSONS) + 4
    for page in pages:
        reader = read_page(page)
        prose = "".join(reader.prose)
        pattern = LATEX_IN_DOCSTRINGS if page.name == "api.html" else LATEX_LEFTOVER
        leftovers = sorted(set(pattern.findall(prose)))
        assert not leftovers, f"{page.name}: unrendered LaTeX {leftovers}"
        code = "".join(reader.input_code)
        assert not [word for word in PLUMBING if word in code], f"{page.name} shows plumbing"
        lines = (code + "".join(reader.output_text)).splitlines()
        widest = max((len(line) for line in lines), default=0)
        assert widest <= TEXT_COLUMN, f"{page.name}: a code or output line of {widest} characters"


@pytest.mark.book
@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_page_code_fits_and_images_are_described(built_book, lesson):
    reader = read_page(built_book.html / "lessons" / f"{lesson}.html")
    lines = "".join(reader.input_code).splitlines()
    assert lines and max(len(line) for line in lines) <= TEXT_COLUMN
    figures = [image for image in reader.images if "_images/" in (image.get("src") or "")]
    assert figures or lesson in PAGES_OF_TABLES, f"{lesson} shows no figure"
    for image in reader.images:
        source, alt = image.get("src") or "", (image.get("alt") or "").strip()
        if "_static/images/logo_" in source:
            continue  # the theme's launch-button logos, named by their alt ("Colab logo")
        assert len(alt.split()) >= MIN_ALT_WORDS, f"{lesson}: {source} has no description"
        assert not re.search(r"\.(png|svg|jpe?g)$", alt), f"{lesson}: alt is a file name"


@pytest.mark.book
@pytest.mark.parametrize("lesson", EXERCISE_LESSONS)
def test_lesson_page_shows_exercises_with_folded_solutions(built_book, lesson):
    reader = read_page(built_book.html / "lessons" / f"{lesson}.html")
    assert MIN_EXERCISES <= reader.exercises <= MAX_EXERCISES
    assert len(reader.solutions) == reader.exercises
    assert all("dropdown" in classes for classes in reader.solutions)
