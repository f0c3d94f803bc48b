import csv, io, json, zipfile, re
from pathlib import Path
D = Path('/work/shared/data/movies')
def tmdb_records():
    """tmdb id -> {keywords, overview, companies}"""
    out = {}
    with zipfile.ZipFile(D/'tmdb_5000_movies.csv.zip') as z:
        name = [n for n in z.namelist() if n.endswith('.csv')][0]
        for r in csv.DictReader(io.TextIOWrapper(z.open(name), encoding='utf-8')):
            out[r['id']] = {'keywords': [k['name'] for k in json.loads(r['keywords'] or '[]')],
                            'overview': r['overview'] or '', 'companies': [c['name'] for c in json.loads(r['production_companies'] or '[]')]}
    with open(D/'movielens_movies_tmdb.csv', encoding='utf-8') as fh:
        for r in csv.DictReader(fh):
            t = r['tmdb_id']
            if not t: continue
            rec = out.setdefault(t, {'keywords': [], 'overview': '', 'companies': []})
            if not rec['keywords'] and r['tmdb_keywords']: rec['keywords'] = [k.strip() for k in r['tmdb_keywords'].split(',') if k.strip()]
            if not rec['overview']: rec['overview'] = r['tmdb_overview'] or ''
    return out
def imdb_to_tmdb():
    out = {}
    with open(D/'movielens_links.csv') as fh:
        for r in csv.DictReader(fh):
            if r['tmdbId']: out['tt' + r['imdbId'].zfill(7)] = r['tmdbId'].split('.')[0]
    return out
def redial_tmdb(item_ids):
    info = json.load(open(D/'redial_id2info.json'))
    links, recs = imdb_to_tmdb(), tmdb_records()
    out = {}
    for i in item_ids:
        imdb = (info.get(i) or {}).get('imdb_id')
        t = links.get(imdb) if imdb else None
        if t and t in recs: out[i] = recs[t]
    return info, out
