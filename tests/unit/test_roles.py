"""Roles and AB posts: the stored values other layers rely on."""

from server.domain.roles import Post, Role


def test_role_values() -> None:
    assert [role.value for role in Role] == [
        "admin",
        "chair",
        "chief_rep",
        "applicant",
        "agent",
        "archivist",
    ]


def test_roles_carry_labels() -> None:
    assert Role.CHIEF_REP.label_zh == "首席代表"
    assert Role.AGENT.label_zh == "代办员"
    assert all(role.label_zh and role.label_en for role in Role)


def test_posts() -> None:
    assert [post.value for post in Post] == ["A", "B"]
    assert Post("B") is Post.B
    assert Post.B.label_zh == "B岗"
