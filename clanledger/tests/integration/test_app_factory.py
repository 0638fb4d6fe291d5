from sqlalchemy import text

from clanledger import create_app
from clanledger.extensions import db


def test_app_factory_binds_database_and_answers_health(app, client):
    assert app.testing
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert db.session.execute(text("select 1")).scalar_one() == 1


def test_postgres_urls_are_mapped_to_psycopg3(tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "postgres://u@h/d"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/d"
