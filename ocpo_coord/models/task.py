"""Cross-agency tasks, assigned to positions so that rotation does not orphan them."""

import uuid
from datetime import date

from sqlalchemy import CheckConstraint, String, Text
from sqlmodel import Field, SQLModel

from ocpo_coord.models.enums import ActivityArea, Priority, TaskStatus


class Task(SQLModel, table=True):
    __tablename__ = "task"

    id: uuid.UUID = Field(foreign_key="record.id", primary_key=True)
    title: str = Field(max_length=300)
    description: str = Field(default="", sa_type=Text)
    activity_area: ActivityArea = Field(sa_type=String(40), index=True)
    lead_agency_id: uuid.UUID = Field(foreign_key="agency.id", index=True)
    status: TaskStatus = Field(default=TaskStatus.PROPOSED, sa_type=String(16), index=True)
    priority: Priority = Field(default=Priority.MEDIUM, sa_type=String(16))
    due_date: date | None = None
    assignee_position_id: uuid.UUID | None = Field(default=None, foreign_key="position.id")
    assignee_user_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")


class TaskSupportingAgency(SQLModel, table=True):
    __tablename__ = "task_supporting_agency"

    task_id: uuid.UUID = Field(foreign_key="task.id", primary_key=True)
    agency_id: uuid.UUID = Field(foreign_key="agency.id", primary_key=True, index=True)


class TaskDependency(SQLModel, table=True):
    __tablename__ = "task_dependency"
    __table_args__ = (CheckConstraint("task_id <> depends_on_id", name="not_self"),)

    task_id: uuid.UUID = Field(foreign_key="task.id", primary_key=True)
    depends_on_id: uuid.UUID = Field(foreign_key="task.id", primary_key=True, index=True)
