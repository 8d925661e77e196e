// Every map in the app (templates/macros/map.html): Leaflet over the department's own tile
// server (data-tiles), or, without one, a plain drawing that needs no outside request. The
// points come from the element's data-points; an element with data-area also lets the user
// drag a rectangle whose corners fill the four coordinate fields it names (which stay the
// accessible way to give an area, and redraw the rectangle when typed in).
(function () {
  "use strict";
  if (typeof L === "undefined") {
    return;
  }
  var DEFAULT_VIEW = [44.05, -91.64];

  function popup(point) {
    var box = document.createElement("span");
    if (point.href) {
      var link = document.createElement("a");
      link.href = point.href;
      link.textContent = point.label;
      box.appendChild(link);
    } else {
      box.textContent = point.label;
    }
    return box;
  }

  function fields(element) {
    var ids = (element.getAttribute("data-area") || "").split(",");
    if (ids.length !== 4) {
      return null;
    }
    var found = ids.map(function (id) { return document.getElementById(id); });
    return found.every(Boolean) ? found : null;  // south, north, west, east
  }

  function typedBounds(inputs) {
    var values = inputs.map(function (input) { return parseFloat(input.value); });
    if (values.some(isNaN)) {
      return null;
    }
    return L.latLngBounds([values[0], values[2]], [values[1], values[3]]);
  }

  function enableArea(map, element, inputs) {
    var rectangle = null;
    var start = null;
    var button = document.querySelector("[data-map-draw='" + element.id + "']");

    function show(bounds) {
      if (rectangle) {
        rectangle.setBounds(bounds);
      } else {
        rectangle = L.rectangle(bounds, { color: "#b3261e", weight: 2, fillOpacity: 0.1 }).addTo(map);
      }
    }
    function fill(bounds) {
      var values = [bounds.getSouth(), bounds.getNorth(), bounds.getWest(), bounds.getEast()];
      inputs.forEach(function (input, i) {
        input.value = values[i].toFixed(5);
        input.dispatchEvent(new Event("change", { bubbles: true }));
      });
    }
    function drawing(on) {
      element.classList.toggle("map-drawing", on);
      if (button) {
        button.setAttribute("aria-pressed", on ? "true" : "false");
      }
      if (on) {
        map.dragging.disable();
      } else {
        map.dragging.enable();
      }
    }
    function at(event) {
      return map.mouseEventToLatLng(event);
    }

    if (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        drawing(!element.classList.contains("map-drawing"));
      });
    }
    element.addEventListener("pointerdown", function (event) {
      if (!element.classList.contains("map-drawing")) {
        return;
      }
      start = at(event);
      element.setPointerCapture(event.pointerId);
      event.preventDefault();
      event.stopPropagation();
    }, true);
    element.addEventListener("pointermove", function (event) {
      if (start) {
        show(L.latLngBounds(start, at(event)));
      }
    }, true);
    element.addEventListener("pointerup", function (event) {
      if (!start) {
        return;
      }
      var bounds = L.latLngBounds(start, at(event));
      start = null;
      show(bounds);
      fill(bounds);
      drawing(false);
    }, true);
    inputs.forEach(function (input) {
      input.addEventListener("input", function () {
        var bounds = typedBounds(inputs);
        if (bounds) {
          show(bounds);
        }
      });
    });
    var typed = typedBounds(inputs);
    if (typed) {
      show(typed);
    }
    return typed;
  }

  function draw(element) {
    if (element.classList.contains("map-ready")) {
      return;
    }
    var points = JSON.parse(element.getAttribute("data-points") || "[]");
    var tiles = element.getAttribute("data-tiles");
    var map = L.map(element, { scrollWheelZoom: false });
    if (tiles) {
      L.tileLayer(tiles, {
        maxZoom: 19,
        attribution: element.getAttribute("data-attribution") || ""
      }).addTo(map);
    } else {
      element.classList.add("map-plain");
    }
    L.control.scale({ imperial: true, metric: true }).addTo(map);
    var bounds = L.latLngBounds([]);
    points.forEach(function (point) {
      L.circleMarker([point.lat, point.lng], {
        radius: 8,
        weight: 2,
        color: point.emphasis === false ? "#5b6675" : "#1d3b6e",
        fillOpacity: point.emphasis === false ? 0.3 : 0.8
      }).bindPopup(popup(point)).addTo(map);
      bounds.extend([point.lat, point.lng]);
    });
    var inputs = fields(element);
    var area = inputs ? enableArea(map, element, inputs) : null;
    if (area) {
      bounds.extend(area);
    }
    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [24, 24], maxZoom: 16 });
    } else {
      map.setView(DEFAULT_VIEW, 12);
    }
    element.classList.add("map-ready");
  }

  function drawAll(root) {
    if (root.matches && root.matches("[data-map]")) {
      draw(root);
    }
    if (root.querySelectorAll) {
      root.querySelectorAll("[data-map]").forEach(draw);
    }
  }

  drawAll(document);
  // a map inside a panel htmx swaps in (the hit's work panel)
  document.addEventListener("htmx:load", function (event) {
    drawAll(event.target);
  });
})();
