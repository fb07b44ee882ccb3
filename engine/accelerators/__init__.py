"""The speed-ups that plug into the core loop; each one module, its switch, its clean-up.

The loop runs every accelerator in `ACCELERATORS` whose Context switch is on (see
`engine.accelerator.Accelerator` for the events). Remove one by deleting its module
and its line here. May import: `core`, `serving`, `engine.language`,
`engine.scheduler`, `engine.accelerator`.
"""

from engine.accelerator import Accelerator
from engine.accelerators.early_answer import AnswerWhilePlanning
from engine.accelerators.read_ahead import ReadAheadResults
from engine.accelerators.speculation import Speculate
from engine.accelerators.templates import PlanTemplates

ACCELERATORS: tuple[type[Accelerator], ...] = (
    PlanTemplates,  # first: a plan it hands over (or guesses) is the others' to use
    Speculate,
    AnswerWhilePlanning,
    ReadAheadResults,
)
