// /redoc: ReDoc over the API's own document, from files of the package (no CDN).
window.addEventListener("load", function () {
  Redoc.init("/openapi.json", {}, document.getElementById("redoc"));
});
