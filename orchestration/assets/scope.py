"""What a run may select: a refresh publishes a whole warehouse."""

import dagster as dg

from ..instance import WAREHOUSE


def require_whole_refresh(context: dg.AssetExecutionContext) -> None:
    """A refresh publishes a whole warehouse: a run that selects only some of its assets (a
    partial Materialize in the UI) is refused before it writes anything."""
    from .dbt import dbt_models
    from .page import RAW_KEYS

    selection = context.run.asset_selection  # empty or None: the whole job
    needed = {*RAW_KEYS.values(), *dbt_models.keys, WAREHOUSE}
    if selection and not needed <= set(selection):
        missing = len(needed - set(selection))
        raise dg.Failure(
            f"refused: a refresh builds and publishes the whole warehouse, and this run selects "
            f"only part of it ({missing} assets left out). Materialize all assets of the "
            f"`refresh` job, or run `kfor refresh`.")
