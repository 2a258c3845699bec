"""Monitoring alarms (监测报警): configurable rules evaluated on readings, raised as cases.

- ``rules``: AlarmRule, parse/validate a rules file, read/save the ``alarm_rules`` table, defaults
- ``engine``: AlarmEngine — threshold, AQI level, sudden rise, data flag and offline checks
- ``alarms``: raise_or_merge — one open alarm per station + pollutant + rule, the rest merged
- ``importer``: readings from CSV/Excel files for stations without a live link
"""
from gis.monitoring.alarms import ACTOR, AlarmOutcome, Firing, StationInfo, raise_or_merge
from gis.monitoring.engine import AlarmEngine
from gis.monitoring.rules import (DEFAULT_RULES, AlarmRule, RuleError, RuleKind, install_default_rules,
                                  parse_rules, read_rules, read_rules_file, save_rules)

__all__ = ["ACTOR", "DEFAULT_RULES", "AlarmEngine", "AlarmOutcome", "AlarmRule", "Firing", "RuleError", "RuleKind",
           "StationInfo", "install_default_rules", "parse_rules", "raise_or_merge", "read_rules", "read_rules_file",
           "save_rules"]
