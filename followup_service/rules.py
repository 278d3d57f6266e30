"""Adapter: the routing rules file (YAML) -> the domain's RoutingRules."""

from __future__ import annotations

import yaml

from followup_service.domain.routing import RoutingRules
from shared.taxonomy import load_categories


def load_routing_rules(path: str) -> RoutingRules:
    """Read and check the rules file; a malformed file fails at start-up, not mid-request
    (the categories' attributes too: shared.taxonomy raises TaxonomyError)."""
    load_categories(path)
    with open(path, encoding="utf-8") as fh:
        return RoutingRules.from_dict(yaml.safe_load(fh))
