# Origin: ethyca/fides, src/fides/api/models/access_policy.py and
# src/fides/api/service/connectors/mysql_connector.py at 96aa40cba74e44a369d637b056f08310132b65ba.
# Licence: Apache-2.0. Reduced and merged.
from sqlalchemy import Column, String, create_engine
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import declarative_base

Base = declarative_base()


# The application's own tables use PostgreSQL's types: String without a length is fine there.
class AccessPolicy(Base):
    __tablename__ = "access_policy"

    id = Column(String(255), primary_key=True)
    name = Column(String, nullable=False)
    description = Column(String)
    policy = Column(JSONB, nullable=False)


# A connector that scans a customer's MySQL database: not where the tables above live.
def build_uri(user: str, password: str, host: str, db: str) -> str:
    return f"mysql+pymysql://{user}:{password}@{host}/{db}"


def create_client(uri: str):
    return create_engine(uri, pool_pre_ping=True)
