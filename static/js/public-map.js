// The public locations map (templates/public/locations.html): Leaflet with the department's
// own tile server. The points and the tile URL come from the page's data attributes.
(function () {
  "use strict";
  var element = document.getElementById("map");
  if (!element || typeof L === "undefined") {
    return;
  }
  var points = JSON.parse(element.getAttribute("data-points") || "[]");
  var map = L.map(element, { scrollWheelZoom: false });
  L.tileLayer(element.getAttribute("data-tiles"), {
    maxZoom: 19,
    attribution: element.getAttribute("data-attribution") || ""
  }).addTo(map);
  var bounds = [];
  points.forEach(function (point) {
    var marker = L.circleMarker([point.lat, point.lng], {
      radius: 8,
      weight: 2,
      color: point.current ? "#1d3b6e" : "#5b6675",
      fillOpacity: point.current ? 0.8 : 0.3
    }).addTo(map);
    var label = document.createElement("span");
    label.textContent = point.n + ". " + point.name + (point.current ? " (current)" : " (previous)");
    marker.bindPopup(label);
    bounds.push([point.lat, point.lng]);
  });
  if (bounds.length) {
    map.fitBounds(bounds, { padding: [24, 24], maxZoom: 16 });
  } else {
    map.setView([44.05, -91.64], 12);
  }
  element.classList.add("map-ready");
})();
