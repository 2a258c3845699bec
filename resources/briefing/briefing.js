/* EnvGrid briefing map: builds Leaflet layers from the JSON blocks gis/briefing writes (no network).
   Every overlay is built the first time it is shown, so hidden layers cost nothing when the page opens. */
window.envgridBriefing = (function () {
  "use strict";
  var counts = {grids: {}, gridsDeclared: {}, sources: 0, sourcesDeclared: 0, cases: 0, heat: 0, stations: 0,
                scriptMs: Math.round(performance.now())};
  var layers = [];
  var pendingCases = [];
  var gridLayers = {};
  var theMap = null;
  var POPUP = {maxWidth: 380, autoPanPaddingTopLeft: [20, 90]};  /* clear of the title */
  var ESC = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"};

  function esc(value) {
    return String(value === null || value === undefined ? "" : value).replace(/[&<>"']/g, function (c) { return ESC[c]; });
  }
  function row(key, value) {
    return value === "" || value === null || value === undefined ? "" :
      "<tr><th>" + esc(key) + "</th><td>" + esc(value) + "</td></tr>";
  }
  function table(title, rows) {
    return "<div class=\"eg-popup\"><h4>" + esc(title) + "</h4><table>" + rows.join("") + "</table></div>";
  }
  function readData(id) {
    var block = document.getElementById(id);
    var value = JSON.parse(block.textContent);
    block.textContent = "";  /* the parsed copy is all we need */
    return value;
  }

  /* A layer group that fills itself the first time it is added to the map. */
  var LazyGroup = L.FeatureGroup.extend({
    initialize: function (build, options) {
      L.FeatureGroup.prototype.initialize.call(this, [], options);
      this._build = build;
    },
    onAdd: function (map) {
      if (this._build) {
        var build = this._build;
        this._build = null;
        build(this);
      }
      L.FeatureGroup.prototype.onAdd.call(this, map);
    }
  });
  function lazy(build) {
    var group = new LazyGroup(build);
    layers.push(group);
    return group;
  }

  function gridPopup(p) {
    var rows = [row("编码", p.code), row("级别", p.level)];
    [["东至", p.e], ["南至", p.s], ["西至", p.w], ["北至", p.n]].forEach(function (b) { rows.push(row(b[0], b[1])); });
    (p.leaders || []).forEach(function (l) { rows.push(row(l[0], l[1] + (l[2] ? "  " + l[2] : ""))); });
    if (!(p.leaders || []).length) { rows.push(row("网格长", "（未配置）")); }
    return table(p.name, rows);
  }

  function gridLayer(id, args) {
    counts.gridsDeclared[args.level] = args.n;
    return gridLayers[args.level] = lazy(function (group) {
      var style = args.style;
      var geojson = L.geoJSON(readData(id), {
        style: function () { return style; },
        pointToLayer: function (feature, latlng) { return L.circleMarker(latlng, style); },
        onEachFeature: function (feature, item) {
          item.bindPopup(function () { return gridPopup(feature.properties); }, POPUP);
        }
      });
      group.addLayer(geojson);
      counts.grids[args.level] = geojson.getLayers().length;
    });
  }

  function sourceLayer(id, args) {
    counts.sourcesDeclared += args.n;
    return lazy(function (group) {
      var rows = readData(id);
      rows.forEach(function (r) {  /* [lat, lon, name, key, status] */
        var marker = L.circleMarker([r[0], r[1]], {
          radius: r[3] ? 6 : 4, weight: r[3] ? 2 : 1, color: r[3] ? "#b71c1c" : "#ffffff",
          fillColor: args.colour, fillOpacity: 0.9
        });
        marker.bindPopup(function () {
          return table(r[2], [row("类别", args.category), row("重点污染源", r[3] ? "是" : ""),
                              row("状态", args.statuses[r[4]])]);
        }, POPUP);
        group.addLayer(marker);
      });
      counts.sources += rows.length;
    });
  }

  function stationLayer(id) {
    /* rows: [lat, lon, icon html, icon size, popup html, name]; the html was escaped by the writer */
    return lazy(function (group) {
      var rows = readData(id);
      rows.forEach(function (r) {
        var half = Math.round(r[3] / 2);
        var icon = L.divIcon({html: r[2], className: "eg-station-icon", iconSize: [r[3], r[3]], iconAnchor: [half, half]});
        group.addLayer(L.marker([r[0], r[1]], {icon: icon, title: r[5], zIndexOffset: 1000})
          .bindPopup(r[4], POPUP));
      });
      counts.stations += rows.length;
    });
  }

  function clusterIcon(cluster) {
    var n = cluster.getChildCount();
    var size = n < 10 ? 28 : n < 100 ? 34 : n < 1000 ? 40 : 46;
    return L.divIcon({html: "<div><span>" + n + "</span></div>", className: "eg-cluster",
                      iconSize: L.point(size, size)});
  }

  function addCases(cluster, id, lookup) {
    /* rows: [lat, lon, number, category, state, source, created, kind]; kind 0 open, 1 overdue, 2 closed, 3 other */
    cluster.options.iconCreateFunction = clusterIcon;
    var icons = lookup.kinds.map(function (k) {
      return L.divIcon({className: "eg-case eg-case-" + k, iconSize: [14, 14], iconAnchor: [7, 7], popupAnchor: [0, -7]});
    });
    var markers = readData(id).map(function (r) {
      var marker = L.marker([r[0], r[1]], {icon: icons[r[7]], title: r[2]});
      marker.bindPopup(function () {
        return table("案件 " + r[2], [row("类别", lookup.categories[r[3]]), row("状态", lookup.states[r[4]]),
          row("来源", lookup.sources[r[5]]), row("登记", r[6]), row("超期", r[7] === 1 ? "是" : "")]);
      }, POPUP);
      return marker;
    });
    /* Added in ready(), once the cluster group is on the map: off the map, markercluster checks each new
       marker against every queued one (quadratic; 1.4 s for 20,000); on it, it clusters them in one pass. */
    pendingCases.push({cluster: cluster, markers: markers});
    counts.cases += markers.length;
  }

  function loadCases(done) {
    var waiting = pendingCases.length;
    if (!waiting) { done(); return; }
    pendingCases.forEach(function (p) {
      var chunked = p.cluster._map && p.cluster.options.chunkedLoading;
      if (chunked) {
        p.cluster.options.chunkProgress = function (processed, total) {
          if (processed === total && --waiting === 0) { done(); }
        };
      }
      p.cluster.addLayers(p.markers);
      if (!chunked && --waiting === 0) { done(); }
    });
    pendingCases = [];
  }

  function noteHeat(n) { counts.heat += n; }

  /* Tests and the benchmark: show every overlay (builds the lazy ones) and report again. */
  function showAll() {
    var started = performance.now();
    layers.forEach(function (layer) { if (!theMap.hasLayer(layer)) { theMap.addLayer(layer); } });
    counts.showAllMs = Math.round(performance.now() - started);
    return JSON.stringify(counts);
  }

  /* Tests: open the popup of a level's first grid (shown or not) and return its text. */
  function openGridPopup(level) {
    var group = gridLayers[level];
    if (!theMap.hasLayer(group)) { theMap.addLayer(group); }
    var item = null;
    group.eachLayer(function (geojson) { item = item || geojson.getLayers()[0]; });
    item.openPopup();
    return item.getPopup().getElement().innerText;
  }

  function ready(map) {
    theMap = map;
    L.control.scale({imperial: false, maxWidth: 160}).addTo(map);
    loadCases(function () { counts.casesMs = Math.round(performance.now()); afterPaint(map); });
  }

  function afterPaint(map) {
    var built = performance.now();
    requestAnimationFrame(function () {
      requestAnimationFrame(function () {
        counts.builtMs = Math.round(built);
        counts.readyMs = Math.round(performance.now());
        counts.zoom = map.getZoom();
        counts.view = map.getBounds().toBBoxString().split(",").map(Number);  /* west, south, east, north */
        document.body.setAttribute("data-briefing", JSON.stringify(counts));
        document.body.setAttribute("data-briefing-ready", "1");
      });
    });
  }

  return {counts: counts, gridLayer: gridLayer, sourceLayer: sourceLayer, stationLayer: stationLayer,
          addCases: addCases, noteHeat: noteHeat, showAll: showAll, openGridPopup: openGridPopup, ready: ready};
})();
