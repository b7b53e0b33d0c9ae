"""Seller Center URLs (/seller/). Each views module lists its own patterns."""

from sellers.views import application, seller_center

app_name = "seller_center"

urlpatterns = [*application.urlpatterns, *seller_center.urlpatterns]
