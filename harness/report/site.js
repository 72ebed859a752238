// The leaderboard page's script (inlined into index.html by harness/report/site.py):
// sortable tables, numeric cells right-aligned, columns without a value hidden with a note.
// Vanilla JavaScript, no network: the page works offline from file://.
(function(){
  var NUM=/^[\s+\-\u2212]?\d[\d,]*(\.\d+)?/;
  function key(t){var m=t.replace(/\u2212/g,'-').match(NUM);return m?parseFloat(m[0].replace(/,/g,'')):null;}
  document.querySelectorAll('table.sortable').forEach(function(tb){
    var body=tb.tBodies[0]; if(!body) return;
    var heads=tb.tHead?tb.tHead.rows[0].cells:[]; var rows=Array.from(body.rows);
    var empty=[];
    Array.from(heads).forEach(function(th,c){
      var vals=rows.map(function(r){return r.cells[c]?r.cells[c].textContent.trim():'';});
      if(vals.length && vals.every(function(v){return v===''||v==='\u2014';})) empty.push(c);
      rows.forEach(function(r,i){if(r.cells[c]&&key(vals[i])!==null&&/^[\s\d+\-\u2212.,%±\[\]()n=\/;]*$/.test(vals[i]))r.cells[c].classList.add('num');});
      th.addEventListener('click',function(){
        var asc=th.getAttribute('aria-sort')!=='ascending';
        Array.from(heads).forEach(function(h){h.removeAttribute('aria-sort');});
        th.setAttribute('aria-sort',asc?'ascending':'descending');
        var rs=Array.from(body.rows);
        rs.sort(function(a,b){
          var x=a.cells[c]?a.cells[c].textContent.trim():'', y=b.cells[c]?b.cells[c].textContent.trim():'';
          var kx=key(x), ky=key(y), d;
          if(kx!==null&&ky!==null) d=kx-ky; else if(kx!==null) return -1;
          else if(ky!==null) return 1;  // cells without a number stay last both ways
          else d=x.localeCompare(y);
          return asc?d:-d;});
        rs.forEach(function(r){body.appendChild(r);});
      });
    });
    if(empty.length){
      var names=empty.map(function(c){return heads[c].textContent.trim();});
      empty.slice().reverse().forEach(function(c){
        heads[c].style.display='none'; rows.forEach(function(r){if(r.cells[c])r.cells[c].style.display='none';});});
      var p=document.createElement('p'); p.className='hidden-note';
      p.textContent='Hidden (no value in this run): '+names.join('; ');
      tb.parentNode.parentNode.insertBefore(p,tb.parentNode.nextSibling);
    }
  });
})();
