"""Two releases of a small FastAPI service: its generated OpenAPI 3.1 descriptions are real third-party
input (FastAPI and pydantic write them, not sloguard). v2 breaks v1's clients on purpose."""

from __future__ import annotations

import enum

from fastapi import FastAPI, Header, HTTPException, Query
from pydantic import BaseModel, Field

SECRET = "s3cr3t-Bearer-token-7f9a2c"


class StatusV1(enum.StrEnum):
    available = "available"
    pending = "pending"
    sold = "sold"


class StatusV2(enum.StrEnum):
    available = "available"
    pending = "pending"
    sold = "sold"
    lost = "lost"  # a new value clients of v1 never saw in a response


class PetV1(BaseModel):
    id: int
    name: str = Field(max_length=50)
    tag: str | None = None
    status: StatusV1


class PetV2(BaseModel):
    id: int
    name: str = Field(max_length=50)
    status: StatusV2  # `tag` is gone


class NewPetV1(BaseModel):
    name: str = Field(max_length=50)
    tag: str | None = None


class NewPetV2(BaseModel):
    name: str = Field(max_length=50)
    tag: str | None = None
    species: str  # a new required field


def v1() -> FastAPI:
    app = FastAPI(title="Pets", version="1.0.0")

    @app.get("/pets", response_model=list[PetV1])
    def list_pets(limit: int = Query(20, ge=1, le=100), status: StatusV1 | None = None) -> list[PetV1]:
        return []

    @app.post("/pets", response_model=PetV1, status_code=201)
    def create_pet(pet: NewPetV1) -> PetV1:
        return PetV1(id=1, name=pet.name, status=StatusV1.available)

    @app.get("/pets/{pet_id}", response_model=PetV1)
    def get_pet(pet_id: int) -> PetV1:
        raise HTTPException(404)

    @app.delete("/pets/{pet_id}", status_code=204)
    def delete_pet(pet_id: int) -> None:
        return None

    return app


def v2() -> FastAPI:
    app = FastAPI(title="Pets", version="2.0.0")

    @app.get("/pets", response_model=list[PetV2])
    def list_pets(limit: int = Query(20, ge=1, le=50), status: StatusV2 | None = None) -> list[PetV2]:
        return []

    @app.post("/pets", response_model=PetV2, status_code=201)
    def create_pet(pet: NewPetV2) -> PetV2:
        return PetV2(id=1, name=pet.name, status=StatusV2.available)

    @app.get("/pets/{id}", response_model=PetV2)  # the path parameter is renamed: not a change
    def get_pet(id: int) -> PetV2:
        raise HTTPException(404)

    @app.get("/owners")
    def list_owners() -> list[str]:
        return []

    return app


def protected() -> FastAPI:
    """v1's description, served only with the secret bearer token (for the redaction test)."""
    app = FastAPI(openapi_url=None)
    description = v1().openapi()

    @app.get("/openapi.json")
    def openapi(authorization: str = Header("")) -> dict[str, object]:
        if authorization != f"Bearer {SECRET}":
            raise HTTPException(401)
        return description

    return app
