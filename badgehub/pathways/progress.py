"""How far a holder is on a pathway: pure computation over the pathway's groups and the holder's credentials.

The rule, written here and nowhere else:

* A credential **counts** when it is not revoked and not expired (the caller passes only those).
* In an **unordered** group, every step the holder has counts; the group is complete with ``min_count`` of them,
  and what to earn next is any missing step.
* In an **ordered** group, the steps count in their order: a step counts once every step before it counts
  (holding step 3 without step 2 counts one step, not two); the group is complete when its first ``min_count``
  steps count, and what to earn next is the first step missing. Steps past the minimum are further, optional
  steps.
* The pathway is complete when every group is. Its contributing credentials are those of the counted steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StepProgress:
    """One step: its achievement, the holder's credential of it (or None) and whether it counts."""

    step: Any
    credential: Any | None
    counts: bool

    @property
    def achievement(self) -> Any:
        return self.step.achievement


@dataclass(frozen=True)
class GroupProgress:
    group: Any
    steps: tuple[StepProgress, ...]
    counted: int
    needed: int
    next_steps: tuple[StepProgress, ...]

    @property
    def complete(self) -> bool:
        return self.counted >= self.needed


@dataclass(frozen=True)
class PathwayProgress:
    pathway: Any
    groups: tuple[GroupProgress, ...]

    @property
    def complete(self) -> bool:
        return all(group.complete for group in self.groups)

    @property
    def counted(self) -> int:
        """Steps counted towards the minimums (a step beyond a group's minimum adds nothing)."""
        return sum(min(group.counted, group.needed) for group in self.groups)

    @property
    def needed(self) -> int:
        return sum(group.needed for group in self.groups)

    @property
    def contributing(self) -> tuple[Any, ...]:
        """The credentials of every counted step, group after group."""
        return tuple(step.credential for group in self.groups for step in group.steps if step.counts)

    @property
    def next_steps(self) -> tuple[StepProgress, ...]:
        """What to earn next: the next steps of the first group not complete."""
        for group in self.groups:
            if not group.complete:
                return group.next_steps
        return ()


def group_progress(group: Any, held: Mapping[int, Any]) -> GroupProgress:
    """Progress on one group, ``held`` mapping achievement ids to the holder's counting credential."""
    steps: list[StepProgress] = []
    blocked = False
    for step in group.steps:
        credential = held.get(step.achievement_id)
        counts = credential is not None and not (group.ordered and blocked)
        if group.ordered and credential is None:
            blocked = True
        steps.append(StepProgress(step, credential, counts))
    counted = sum(1 for step in steps if step.counts)
    needed = min(max(group.min_count, 1), len(steps)) if steps else 0
    missing = [step for step in steps if not step.counts]
    if counted >= needed:
        upcoming: tuple[StepProgress, ...] = ()
    elif group.ordered:
        upcoming = tuple(missing[:1])
    else:
        upcoming = tuple(step for step in missing if step.credential is None)
    return GroupProgress(group, tuple(steps), counted, needed, upcoming)


def pathway_progress(pathway: Any, held: Mapping[int, Any]) -> PathwayProgress:
    """Progress on ``pathway`` for a holder whose counting credentials, by achievement id, are ``held``."""
    return PathwayProgress(pathway, tuple(group_progress(group, held) for group in pathway.groups))
