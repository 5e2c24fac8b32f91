"""The merchant's products, as staff and policies see them."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import Product
from portal.services.lookup import get_or_404


def products() -> list[Product]:
    return list(db.session.scalars(select(Product).order_by(Product.name)))


def get_product(product_id: int) -> Product:
    return get_or_404(Product, product_id)
