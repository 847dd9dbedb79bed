"""One import point for the store's query and update functions.

The functions live in one module per concept (definitions, instances, tasks, audit,
tokens); every one takes a ``Session`` and never commits, so the service decides where a
transaction ends.
"""

from __future__ import annotations

from .audit import add_audit, list_audit
from .clockstate import store_time, stored_time
from .definitions import (
    content_sha256,
    get_definition,
    get_definition_by_id,
    latest_definition,
    list_definitions,
    store_definition,
)
from .instances import (
    add_instance,
    add_patient,
    claim_due_instances,
    due_instance_ids,
    find_patient,
    instances_for_patient,
    lock_instance,
    lock_instance_of_task,
    next_due_at,
)
from .tasks import (
    TaskChanges,
    TaskPage,
    count_tasks,
    decode_cursor,
    encode_cursor,
    get_task,
    query_tasks,
    replace_ready_tasks,
)
from .tokens import create_token, find_token, hash_token, list_tokens, revoke_token

__all__ = [
    "store_time",
    "stored_time",
    "TaskChanges",
    "TaskPage",
    "add_audit",
    "add_instance",
    "add_patient",
    "claim_due_instances",
    "content_sha256",
    "create_token",
    "decode_cursor",
    "due_instance_ids",
    "encode_cursor",
    "find_patient",
    "find_token",
    "get_definition",
    "get_definition_by_id",
    "get_task",
    "hash_token",
    "instances_for_patient",
    "latest_definition",
    "list_audit",
    "list_definitions",
    "list_tokens",
    "lock_instance",
    "lock_instance_of_task",
    "next_due_at",
    "count_tasks",
    "query_tasks",
    "replace_ready_tasks",
    "revoke_token",
    "store_definition",
]
