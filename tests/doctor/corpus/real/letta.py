# Origin: letta-ai/letta, letta/llm_api/bedrock_client.py, letta/services/agent_manager.py,
# letta/orm/job.py at 56ba9c25552605eec89de8ed3dc6394b625c1993.
# Licence: Apache-2.0. Reduced.
from aioboto3.session import Session
from sqlalchemy import ForeignKey, Index, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

DATABASE_URL = "postgresql+asyncpg://letta@db/letta"


class Base(DeclarativeBase):
    pass


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_user_id", "user_id"),)

    id: Mapped[str] = mapped_column(String, primary_key=True)
    user_id: Mapped[str] = mapped_column(String, ForeignKey("users.id"))
    organization_id: Mapped[str] = mapped_column(String, ForeignKey("organizations.id"))  # expect: SMP005


class BlocksTags(Base):
    __tablename__ = "blocks_tags"

    block_id: Mapped[str] = mapped_column(String, primary_key=True)
    tag: Mapped[str] = mapped_column(String, primary_key=True)


async def get_client(access_key: str, secret: str):
    # aioboto3's session: no database connection to leak.
    session = Session()
    async with session.client("sts", aws_access_key_id=access_key) as sts:
        return await sts.get_caller_identity()


async def get_block_with_tags(session: AsyncSession, agent, block_label: str):
    # The query runs in the branch that returns: once per call, not once per block.
    for block in agent.core_memory:
        if block.label == block_label:
            result = await session.execute(
                select(BlocksTags.tag).where(BlocksTags.block_id == block.id)
            )
            return block, [row[0] for row in result.fetchall()]
    raise LookupError(block_label)


async def get_tags(session: AsyncSession, blocks):
    tags = {}
    for block in blocks:
        result = await session.execute(  # expect: SMP018
            select(BlocksTags.tag).where(BlocksTags.block_id == block.id)
        )
        tags[block.id] = [row[0] for row in result.fetchall()]
    return tags
