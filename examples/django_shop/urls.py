"""The home page, and the account area at /account/."""

from django.shortcuts import render
from django.urls import include, path


def home(request):
    return render(request, "home.html")


urlpatterns = [path("", home), path("account/", include("wsactions.contrib.django.urls"))]
