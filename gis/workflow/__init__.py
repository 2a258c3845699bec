"""The case workflow (案件办理): register, route, move through the states, deadlines, reminders.

Small modules, no Qt, every database function takes a Connection and leaves the transaction
to the caller:

- ``transitions``: the state machine as data, and its checks (pure)
- ``cases``: create_case, apply_action, add_note, attach, read_case_detail, reporter_trail
- ``deadlines``: deadline rules, work calendar, time_left, overdue_cases, remind (督办)
- ``routing``: GridIndex.locate → RouteResult (lowest grid, alternatives near a border)
- ``duplicates``: suggest_duplicates (same category, near, recent, open)
- ``attachments``: photos with SHA-256, append-only
"""
from gis.workflow.attachments import AttachmentCorrupt, AttachmentInfo, NewAttachment, read_attachment
from gis.workflow.cases import (ActionResult, CaseDetail, CaseEvent, CaseNotFound, ConflictError, NewCase,
                                ReporterStep, add_note, apply_action, attach, create_case, read_case_detail,
                                reporter_trail)
from gis.workflow.deadlines import (OverdueCase, WorkCalendar, deadline_for, overdue_cases, remind,
                                    remind_overdue, time_left)
from gis.workflow.duplicates import DuplicateSuggestion, suggest_duplicates
from gis.workflow.routing import GridIndex, RouteResult
from gis.workflow.transitions import (CITY_DEPARTMENT, TRANSITIONS, InvalidTransition, MissingInput,
                                      WorkflowError, allowed_actions, validate_trail)

__all__ = [
                                "CITY_DEPARTMENT",
                                "TRANSITIONS",
                                "ActionResult",
                                "AttachmentCorrupt",
                                "AttachmentInfo",
                                "CaseDetail",
                                "CaseEvent",
                                "CaseNotFound",
                                "ConflictError",
                                "DuplicateSuggestion",
                                "GridIndex",
                                "InvalidTransition",
                                "MissingInput",
                                "NewAttachment",
                                "NewCase",
                                "OverdueCase",
                                "ReporterStep",
                                "RouteResult",
                                "WorkCalendar",
                                "WorkflowError",
                                "add_note",
                                "allowed_actions",
                                "apply_action",
                                "attach",
                                "create_case",
                                "deadline_for",
                                "overdue_cases",
                                "read_attachment",
                                "read_case_detail",
                                "remind",
                                "remind_overdue",
                                "reporter_trail",
                                "suggest_duplicates",
                                "time_left",
                                "validate_trail",
]
