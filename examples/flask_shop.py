"""The smallest real shop: register, confirm, log in, reset the password, keep addresses."""

import os

from flask import Flask, render_template_string

from wsactions.contrib.flask import WsActions, current_account

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]  # 32+ random characters
app.config["WSACTIONS_BASE_URL"] = os.environ.get("BASE_URL", "http://127.0.0.1:5000")
app.config["WSACTIONS_MAILER"] = "console"  # prints mails and their links: for a real shop,
# set WSACTIONS_SMTP_HOST (and _PORT, _USER, _PASSWORD, _FROM) instead
WsActions(app)  # the account area at /account/; accounts in instance/wsactions.db


@app.route("/")
def home() -> str:
    account = current_account()
    return render_template_string(
        '{% extends "wsactions/base.html" %}{% block content %}<h1>Shop</h1>'
        "<p>{{ who }}</p>{% endblock %}",
        who=f"Hello {account.email}" if account else "Welcome, guest",
    )
