"""schema.graphql is generated and current, and everything in it is described."""

from pathlib import Path

from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType

from app.graphql.root import schema
from app.graphql.sdl import sdl

ROOT = Path(__file__).resolve().parent.parent


def test_schema_file_is_current() -> None:
    assert (ROOT / "schema.graphql").read_text() == sdl(), (
        "schema.graphql is stale: run `make schema`"
    )


def test_every_type_field_argument_and_enum_value_has_a_description() -> None:
    missing = []
    for name, type_ in schema._schema.type_map.items():
        if name.startswith("__") or name in ("String", "Boolean", "Int", "Float", "ID"):
            continue
        if not type_.description:
            missing.append(name)
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for field_name, field in type_.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                for arg_name, arg in getattr(field, "args", {}).items():
                    if not arg.description:
                        missing.append(f"{name}.{field_name}({arg_name})")
        if isinstance(type_, GraphQLEnumType):
            missing.extend(
                f"{name}.{v}" for v, value in type_.values.items() if not value.description
            )
    assert missing == []
