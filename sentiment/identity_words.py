"""Identity-word swapping: a data augmentation that teaches a model that nationalities, peoples and
religions carry no sentiment.

A review says "the Korean family" or "a Catholic upbringing" about what a film shows, not about how
good it is, yet a model learns whatever the words co-occur with in IMDB's labels: the shipped models
read "X is a Christian author" as negative and "X is a Protestant author" as positive.
``swap_identity_words`` replaces each such word of a training review, with probability ``rate``, by
a word of the same class drawn at random, so every member is seen in every other's contexts and the
words become exchangeable in what learns from the training text (vocabulary, word vectors, the
recurrent teacher and the student); labels stay as they are. The NBSVM teacher reads the reviews
unswapped, and the teacher labels the unlabelled reviews as they are.

The class comes from WordNet and the capitalization of the reviews' text, not from the labels
(:func:`wordnet_identity_words`):

1. the noun synsets under "inhabitant" (09620078: "a person who inhabits a particular place", the
   tree of demonyms such as "Nigerian", "Parisian", "Texan") and under "religious person"
   (09628382: "Christian", "Muslim", "Buddhist"), following class hyponyms only (not instances,
   which are particular people such as saints), the adjectives that WordNet derives from them or
   relates to them ("Jamaican", "Islamic"), and the adjectives that pertain to a country (an instance
   of "country" 08544813 or of its hyponyms such as "African country": "Nigerian", "Turkish");
2. skipping synsets that WordNet marks with a usage domain (ethnic slurs, slang, disparagement);
3. keeping one-word lemmas written capitalized in WordNet, and only those that the reviews capitalize
   in more than half of their occurrences after a sentence's first word: "French" (87%), "Catholic"
   (83%) and "Protestant" (58%) stay; "pole" (39%), "goth" (30%), "lesbian" (8%: WordNet's
   capitalized "Lesbian" is of Lesbos) and "brother" (8%) go. A word never seen after another word
   (277 of the 624, most of them in no review at all) has nothing to test and stays.

``IDENTITY_WORDS`` is the result (624 words) on the 22,500 training and 50,000 unlabelled IMDB reviews, kept
here so that training needs no WordNet installed (rebuilding it needs WordNet and the reviews).

What the rule gets wrong, measured on those reviews: the swap matches the listed words in any case,
so lowercase "french", "polish" ("lacks polish"), "frank" and "union" are swapped too (about 2,000
occurrences against 40,000 swapped); capitalized namesakes are in the class ("Frank" Capra,
"Christian" Slater, "Norman" Bates, "Roman" Polanski, "Union" through its synset-mate "Federal",
the film "Highlander"), and so are a few slurs that WordNet does not mark ("Sassenach", "Canuck").
It misses plurals ("Americans", "Muslims": about 4,800 occurrences), words that WordNet files
elsewhere ("British", "Irish", "African", "Jewish", "Arab": not under the two roots, nor pertaining
to a country instance) and lowercase identity words ("gay", "black", "deaf"), which are left to the
model.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from .intensifiers import WORDNET_DIR, swap_words

INHABITANT, RELIGIOUS_PERSON, COUNTRY = "09620078", "09628382", "08544813"
MIN_CAPITALIZED = 0.5
# A word that follows another word of the same sentence (so not capitalized for being first).
_AFTER_A_WORD = re.compile(r"(?<=[\w,;:] )([A-Za-z]+)(?![\w'])")


def _synsets(path: Path, part: str) -> dict:
    """``{(part, offset): (lemmas, pointers)}`` of a WordNet data file; pointers are (symbol, part, offset)."""
    synsets = {}
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("  "):  # the licence header
                continue
            fields = line.split(" | ", 1)[0].split()
            count = int(fields[3], 16)
            lemmas = [re.sub(r"\(.*\)$", "", fields[4 + 2 * i]) for i in range(count)]
            at = 4 + 2 * count
            pointers = [(fields[at + 1 + 4 * j], "a" if fields[at + 3 + 4 * j] == "s" else fields[at + 3 + 4 * j],
                         fields[at + 2 + 4 * j]) for j in range(int(fields[at]))]
            synsets[(part, fields[0])] = (lemmas, pointers)
    return synsets


def _hyponyms(synsets: dict, root: tuple, marked: set) -> set:
    """``root`` and its class hyponyms, transitively (not instances; not synsets in ``marked``)."""
    found, todo = set(), [root]
    while todo:
        key = todo.pop()
        if key in found or key in marked or key not in synsets:
            continue
        found.add(key)
        todo.extend((part, offset) for symbol, part, offset in synsets[key][1] if symbol == "~")
    return found


def _wordnet_candidates(wordnet_dir: str | Path) -> set[str]:
    """Steps 1 and 2 of the module's rule, with one-word capitalized lemmas only."""
    folder = Path(wordnet_dir)
    missing = [str(folder / n) for n in ("data.noun", "data.adj") if not (folder / n).is_file()]
    if missing:
        raise FileNotFoundError(f"not a WordNet 3.0 database folder: {', '.join(missing)} missing. "
                                "On Debian or Ubuntu: apt-get install wordnet-base (files in /usr/share/wordnet).")
    synsets = {**_synsets(folder / "data.noun", "n"), **_synsets(folder / "data.adj", "a")}
    marked = {key for key, (_, pointers) in synsets.items() if any(s.startswith(";u") for s, _, _ in pointers)}
    people = _hyponyms(synsets, ("n", INHABITANT), marked) | _hyponyms(synsets, ("n", RELIGIOUS_PERSON), marked)
    countries = {("n", o) for key in _hyponyms(synsets, ("n", COUNTRY), marked)
                 for s, _, o in synsets[key][1] if s == "~i"}
    related = {key for key, (_, pointers) in synsets.items() if key[0] == "a" and key not in marked
               and any((s in ("\\", "+") and ("n", o) in people) or (s == "\\" and ("n", o) in countries)
                       for s, _, o in pointers)}
    return {w for key in people | related for w in synsets[key][0] if w[:1].isupper() and w.isalpha()}


def wordnet_identity_words(texts, wordnet_dir: str | Path = WORDNET_DIR) -> tuple[str, ...]:
    """The identity class: the WordNet rule of the module, then the capitalization test on ``texts``."""
    candidates = {w.lower(): w for w in _wordnet_candidates(wordnet_dir)}
    capitalized, seen = Counter(), Counter()
    for text in texts:
        for word in _AFTER_A_WORD.findall(text):
            lower = word.lower()
            if lower in candidates:
                seen[lower] += 1
                capitalized[lower] += word[0].isupper()
    return tuple(sorted(candidates[w] for w in candidates
                        if not seen[w] or capitalized[w] > MIN_CAPITALIZED * seen[w]))


def swap_identity_words(texts, rate: float, *, seed: int = 1337, words=None) -> tuple[list[str], int]:
    """``texts`` with each identity word replaced, with probability ``rate``, by one of the class
    drawn uniformly (see :func:`sentiment.intensifiers.swap_words`)."""
    return swap_words(texts, rate, IDENTITY_WORDS if words is None else words, seed=seed, what="identity word swap")


IDENTITY_WORDS: tuple[str, ...] = (
    'Abo', 'Acadian', 'Achaean', 'Achaian', 'Aeolian', 'Afghan', 'Afghani', 'Afghanistani', 'Afrikaans',
    'Afrikaner', 'Alabaman', 'Alabamian', 'Alaskan', 'Albanian', 'Alexandrian', 'Algerian', 'Alsatian',
    'Altaic', 'American', 'Amish', 'Anabaptist', 'Andorran', 'Angevin', 'Angevine', 'Anglican', 'Angolan',
    'Anguillan', 'Annamese', 'Antiguan', 'Apostle', 'Appalachian', 'Arcadian', 'Argentine', 'Argentinian',
    'Argive', 'Arizonan', 'Arizonian', 'Arkansan', 'Arkansawyer', 'Armenian', 'Asian', 'Asiatic', 'Assamese',
    'Athenian', 'Augustinian', 'Aussie', 'Australian', 'Austrian', 'Austronesian', 'Azerbaijani', 'Badaga',
    'Bahamian', 'Balkan', 'Bangladeshi', 'Baptist', 'Baptistic', 'Barbadian', 'Basque', 'Bavarian', 'Beaver',
    'Belarusian', 'Belgian', 'Belorussian', 'Benedictine', 'Bengali', 'Beninese', 'Berliner', 'Bermudan',
    'Bermudian', 'Bhutanese', 'Bhutani', 'Blackfriar', 'Bolivian', 'Bornean', 'Bosnian', 'Bostonian',
    'Botswanan', 'Brahui', 'Brazilian', 'Breton', 'Brit', 'Britisher', 'Briton', 'Brummy', 'Bruneian',
    'Buckeye', 'Buddhist', 'Bulgarian', 'Burmese', 'Burundi', 'Burundian', 'Byelorussian', 'Byzantine',
    'Cajun', 'Californian', 'Cambodian', 'Cambrian', 'Cameroonian', 'Canadian', 'Canarese', 'Cantabrigian',
    'Canuck', 'Carioca', 'Carmelite', 'Carolinian', 'Carthusian', 'Castillian', 'Catalan', 'Catholic', 'Celt',
    'Celtic', 'Chadian', 'Chicano', 'Chilean', 'Chinese', 'Christian', 'Chuvash', 'Cistercian', 'Colombian',
    'Coloradan', 'Colossian', 'Confederate', 'Congolese', 'Congregationalist', 'Connecticuter', 'Contra',
    'Copt', 'Coptic', 'Corinthian', 'Cornhusker', 'Cornishman', 'Cornishwoman', 'Creole', 'Cretan',
    'Croatian', 'Cuban', 'Cymry', 'Cyprian', 'Cypriot', 'Cypriote', 'Czech', 'Czechoslovak',
    'Czechoslovakian', 'Dalmatian', 'Damascene', 'Dane', 'Danish', 'Dardan', 'Dardanian', 'Delawarean',
    'Delawarian', 'Djiboutian', 'Dominican', 'Dorian', 'Dravidian', 'Dubliner', 'Dunkard', 'Dunker', 'Dutch',
    'Dutchman', 'Ebionite', 'Ecuadoran', 'Ecuadorian', 'Egyptian', 'English', 'Englishman', 'Englishwoman',
    'Ephesian', 'Episcopalian', 'Eritrean', 'Ethiopian', 'Etruscan', 'Eurafrican', 'Eurasian', 'Eurasiatic',
    'European', 'Evenk', 'Farsi', 'Fijian', 'Filipino', 'Finn', 'Finnish', 'Fleming', 'Flemish', 'Florentine',
    'Floridian', 'Franciscan', 'Frank', 'Frankish', 'French', 'Frenchman', 'Frenchwoman', 'Gabonese',
    'Gadaba', 'Gael', 'Gaelic', 'Galatian', 'Galilaean', 'Galilean', 'Gallic', 'Gambian', 'Gaul', 'Genoese',
    'Geordie', 'Georgian', 'German', 'Germanic', 'Ghanaian', 'Ghanese', 'Ghanian', 'Gibraltarian',
    'Glaswegian', 'Gond', 'Gothic', 'Grecian', 'Greek', 'Grenadian', 'Guatemalan', 'Guinean', 'Gujarati',
    'Gujerati', 'Gurkha', 'Guru', 'Guyanese', 'Haitian', 'Hakka', 'Hanoverian', 'Hawaiian', 'Hellene',
    'Hellenic', 'Hesperian', 'Highlander', 'Hindi', 'Hindoo', 'Hindu', 'Hindustani', 'Hispanic', 'Hittite',
    'Hmong', 'Hollander', 'Honduran', 'Hoosier', 'Hungarian', 'Iberian', 'Icelander', 'Icelandic', 'Idahoan',
    'Illinoisan', 'Indian', 'Indianan', 'Indonesian', 'Ionian', 'Iowan', 'Iraki', 'Irani', 'Iranian', 'Iraqi',
    'Irelander', 'Irishman', 'Irishwoman', 'Islamic', 'Islamist', 'Israeli', 'Israelite', 'Italian',
    'Jacobean', 'Jamaican', 'Japanese', 'Javan', 'Javanese', 'Jesuit', 'Jesuitic', 'Jesuitical', 'Jordanian',
    'Jugoslav', 'Jugoslavian', 'Jute', 'Kampuchean', 'Kanarese', 'Kansan', 'Karakalpak', 'Kashmiri', 'Katari',
    'Kazak', 'Kazakh', 'Kazakhstani', 'Kelt', 'Kentuckian', 'Kenyan', 'Khirghiz', 'Khmer', 'Kirghiz',
    'Kirgiz', 'Kiwi', 'Kolam', 'Korean', 'Kota', 'Kotar', 'Kshatriya', 'Kui', 'Kurd', 'Kuwaiti',
    'Kyrgyzstani', 'Laconian', 'Lancastrian', 'Langobard', 'Lao', 'Laotian', 'Lapp', 'Lapplander', 'Latin',
    'Latino', 'Latvian', 'Lebanese', 'Liberian', 'Libyan', 'Liechtensteiner', 'Lithuanian', 'Liverpudlian',
    'Livonian', 'Lombard', 'Londoner', 'Louisianan', 'Louisianian', 'Lowlander', 'Lusitanian', 'Luxembourger',
    'Luxembourgian', 'Luxemburger', 'Macedonian', 'Mackem', 'Madagascan', 'Magyar', 'Mahratta', 'Mainer',
    'Malawian', 'Malay', 'Malayan', 'Malaysian', 'Maldivan', 'Maldivian', 'Malian', 'Maltese', 'Malto',
    'Manchu', 'Mancunian', 'Mandaean', 'Mandean', 'Maratha', 'Maroc', 'Marylander', 'Mauritanian',
    'Mauritian', 'Melchite', 'Melkite', 'Mennonite', 'Mesoamerican', 'Methodist', 'Mexican', 'Mexicano',
    'Miao', 'Michigander', 'Milanese', 'Minnesotan', 'Minoan', 'Mississippian', 'Missourian', 'Moldovan',
    'Mollah', 'Monacan', 'Monegasque', 'Mongolian', 'Montanan', 'Montserratian', 'Moor', 'Moorish',
    'Moresque', 'Mormon', 'Moroccan', 'Moslem', 'Mozambican', 'Mulla', 'Muslim', 'Muslimah', 'Mycenaen',
    'Namibian', 'Nauruan', 'Nazarene', 'Neapolitan', 'Nebraskan', 'Neopolitan', 'Nepalese', 'Nepali',
    'Netherlander', 'Nevadan', 'Nicaraguan', 'Nigerian', 'Nipponese', 'Nisei', 'Norman', 'Norse', 'Norseman',
    'Northerner', 'Northman', 'Norwegian', 'Numidian', 'Ohioan', 'Oklahoman', 'Omani', 'Orangeman',
    'Oregonian', 'Oriya', 'Oscan', 'Osmanli', 'Ostrogoth', 'Ottoman', 'Oxonian', 'Pakistani', 'Panamanian',
    'Panjabi', 'Papuan', 'Paraguayan', 'Parisian', 'Parisienne', 'Parsee', 'Parsi', 'Parthian', 'Pashtoon',
    'Pashtun', 'Pathan', 'Pennsylvanian', 'Pentecostal', 'Pentecostalist', 'Persian', 'Peruvian',
    'Philippian', 'Philippine', 'Phrygian', 'Polish', 'Polynesian', 'Portuguese', 'Presbyterian',
    'Protestant', 'Prussian', 'Punjabi', 'Pushtun', 'Qatari', 'Quaker', 'Quebecois', 'Rajpoot', 'Rajput',
    'Rhodesian', 'Roma', 'Roman', 'Romani', 'Romanian', 'Romanic', 'Romany', 'Rommany', 'Roumanian',
    'Ruandan', 'Rumanian', 'Russian', 'Rwandan', 'Ryukyuan', 'Saame', 'Saami', 'Sabahan', 'Sabbatarian',
    'Sabine', 'Salian', 'Salvadoran', 'Salvadorean', 'Salvadorian', 'Samaritan', 'Sami', 'Samnite', 'Samoan',
    'Saracen', 'Sarawakian', 'Sardinian', 'Sassenach', 'Satanist', 'Saudi', 'Savara', 'Savoyard', 'Saxon',
    'Scandinavian', 'Scot', 'Scotchman', 'Scotchwoman', 'Scots', 'Scotsman', 'Scotswoman', 'Scottish',
    'Senegalese', 'Seychellois', 'Shaker', 'Shaktist', 'Sherpa', 'Shiite', 'Shivaist', 'Shudra', 'Siamese',
    'Sicilian', 'Sindhi', 'Singaporean', 'Singhalese', 'Sinhalese', 'Sinitic', 'Slovak', 'Slovakian',
    'Slovene', 'Slovenian', 'Somali', 'Somalian', 'Southerner', 'Soviet', 'Spaniard', 'Spanish', 'Sudanese',
    'Sudra', 'Sufi', 'Sumatran', 'Sunni', 'Sunnite', 'Swazi', 'Swede', 'Swedish', 'Swiss', 'Syrian',
    'Tadzhik', 'Tahitian', 'Tai', 'Taiwanese', 'Tajik', 'Tajikistani', 'Tamil', 'Tanzanian', 'Tarheel',
    'Telugu', 'Tennessean', 'Teuton', 'Teutonic', 'Texan', 'Thai', 'Theban', 'Thessalian', 'Thessalonian',
    'Thracian', 'Tibetan', 'Timorese', 'Tobagonian', 'Toda', 'Togolese', 'Tongan', 'Tory', 'Tractarian',
    'Trappist', 'Trinidadian', 'Trojan', 'Tulu', 'Tungus', 'Tungusic', 'Tunisian', 'Tunker', 'Turcoman',
    'Turk', 'Turki', 'Turkish', 'Turkmen', 'Turkoman', 'Tuscan', 'Tyrolean', 'Ugandan', 'Uighur', 'Uigur',
    'Ukrainian', 'Ukranian', 'Uniat', 'Uniate', 'Union', 'Uruguayan', 'Usbeg', 'Usbek', 'Utahan', 'Uygur',
    'Uzbak', 'Uzbeg', 'Uzbek', 'Uzbekistani', 'Vaishnava', 'Vaisya', 'Venetian', 'Venezuelan', 'Vermonter',
    'Vietnamese', 'Viking', 'Virginian', 'Visigoth', 'WASP', 'Wahabi', 'Wahhabi', 'Walloon', 'Washingtonian',
    'Welsh', 'Welshman', 'Wesleyan', 'Whig', 'Wiccan', 'Wisconsinite', 'Wolverine', 'Wyomingite', 'Yakut',
    'Yank', 'Yankee', 'Yemeni', 'Yugoslav', 'Yugoslavian', 'Zairean', 'Zairese', 'Zambian', 'Zealander',
    'Zimbabwean',
)
