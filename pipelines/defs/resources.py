import dagster as dg

from pipelines.resources import PhmSettings


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"settings": PhmSettings()})
