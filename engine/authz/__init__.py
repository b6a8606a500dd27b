"""Authorization: Casbin RBAC with domains (domain = institution), answered from a flat index."""
from engine.authz.service import (
    DEFAULT_MODEL_PATH,
    DEFAULT_SEED_PATH,
    WILDCARD,
    Authorizer,
    InMemoryPolicyVersion,
    RedisPolicyVersion,
    build_enforcer,
    domain_matches,
    read_seed_rules,
    sqlalchemy_adapter,
)

__all__ = [
    "DEFAULT_MODEL_PATH",
    "DEFAULT_SEED_PATH",
    "WILDCARD",
    "Authorizer",
    "InMemoryPolicyVersion",
    "RedisPolicyVersion",
    "build_enforcer",
    "domain_matches",
    "read_seed_rules",
    "sqlalchemy_adapter",
]
