from flask import Blueprint

bp = Blueprint("places", __name__)
