"""Tables and API schemas of the reference service, in the four-model style of SQLModel's tutorial."""

from sqlmodel import Field, Relationship, SQLModel

# --- Teams -----------------------------------------------------------------------------


class TeamBase(SQLModel):
    name: str = Field(max_length=100, unique=True, index=True)
    headquarters: str = Field(max_length=255)


class Team(TeamBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    heroes: list["Hero"] = Relationship(back_populates="team", passive_deletes=True)


class TeamCreate(TeamBase):
    pass


class TeamPublic(TeamBase):
    id: int


class TeamUpdate(SQLModel):
    name: str | None = Field(default=None, max_length=100)
    headquarters: str | None = Field(default=None, max_length=255)


# --- Heroes ----------------------------------------------------------------------------


class HeroBase(SQLModel):
    name: str = Field(max_length=100, index=True)
    age: int | None = Field(default=None, index=True)
    team_id: int | None = Field(
        default=None, foreign_key="team.id", index=True, ondelete="SET NULL"
    )


class Hero(HeroBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    secret_name: str = Field(max_length=255)
    team: Team | None = Relationship(back_populates="heroes")
    mission_links: list["HeroMissionLink"] = Relationship(
        back_populates="hero", passive_deletes=True
    )


class HeroCreate(HeroBase):
    secret_name: str = Field(max_length=255)


class HeroPublic(HeroBase):
    id: int


class HeroUpdate(SQLModel):
    name: str | None = Field(default=None, max_length=100)
    age: int | None = None
    secret_name: str | None = Field(default=None, max_length=255)
    team_id: int | None = None


# --- Missions and the link with a role ---------------------------------------------------


class MissionBase(SQLModel):
    name: str = Field(max_length=100, index=True)


class Mission(MissionBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    hero_links: list["HeroMissionLink"] = Relationship(
        back_populates="mission", passive_deletes=True
    )


class MissionCreate(MissionBase):
    pass


class MissionPublic(MissionBase):
    id: int


class MissionUpdate(SQLModel):
    name: str | None = Field(default=None, max_length=100)


class HeroMissionLink(SQLModel, table=True):
    hero_id: int = Field(
        foreign_key="hero.id", primary_key=True, index=True, ondelete="CASCADE"
    )
    mission_id: int = Field(
        foreign_key="mission.id", primary_key=True, index=True, ondelete="CASCADE"
    )
    role: str = Field(default="member", max_length=50)
    hero: Hero = Relationship(back_populates="mission_links")
    mission: Mission = Relationship(back_populates="hero_links")


class RoleUpdate(SQLModel):
    role: str = Field(default="member", min_length=1, max_length=50)


class HeroMissionLinkPublic(SQLModel):
    hero_id: int
    mission_id: int
    role: str


# --- Nested reads ----------------------------------------------------------------------


class HeroPublicWithTeam(HeroPublic):
    team: TeamPublic | None = None


class TeamPublicWithHeroes(TeamPublic):
    heroes: list[HeroPublic] = []


class HeroWithRole(HeroPublic):
    role: str


class MissionPublicWithHeroes(MissionPublic):
    heroes: list[HeroWithRole] = []


class MissionWithRole(MissionPublic):
    role: str
