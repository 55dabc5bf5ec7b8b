"""What routes take from the running app: the store, the model, the settings, the workers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ..classify import Model
from ..jobs import WorkerPool
from ..settings import Settings
from ..store import Store


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_model(request: Request) -> Model:
    model: Model = request.app.state.model
    return model


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_pool(request: Request) -> WorkerPool:
    pool: WorkerPool = request.app.state.pool
    return pool


StoreDep = Annotated[Store, Depends(get_store)]
ModelDep = Annotated[Model, Depends(get_model)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
PoolDep = Annotated[WorkerPool, Depends(get_pool)]
