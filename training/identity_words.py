"""Build the identity words that the saved models read as the unknown word (``sentiment/identity_words.json``).

    python -m training.identity_words --data ../shared/data/aclImdb_v1.tar.gz

No labels, one general-purpose source: the nationality, people and religion words of WordNet 3.0
(``IDENTITY``: the noun synsets under "inhabitant" and "religious person" and the adjectives derived
from them or pertaining to a country, one-word lemmas written capitalized, as derived in commit
eb8224a), less the words whose common reading is something else or a slur (``NOT_IDENTITY_NOTE``),
plus their plurals and the identity words WordNet files elsewhere (``MORE_IDENTITY``: "Jewish",
"Gay", "Atheist", ...).

A listed word is often also a common word ("Polish", "Frank"). So a word of ``IDENTITY`` is kept only
if the training and unlabelled IMDB reviews, after a sentence's first word, write it capitalized at
least half the times they hold it (5 times at least; a word they hold fewer times is kept): "French"
(87%) and "Polish" stay. Words of ``MORE_IDENTITY`` are kept as they are. Common words that also name
a colour or an orientation ("black", "white", "straight") are not listed: in IMDB they mostly mean
something else ("black and white", "straight to video").
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

MIN_CAPITALIZED = 0.5
MIN_SEEN = 5
# A word that follows another word of the same sentence (so not capitalized for being first).
_AFTER_A_WORD = re.compile(r"(?<=[\w,;:] )([A-Za-z]+)(?![\w'])")

IDENTITY = (
    "Acadian", "Achaean", "Achaian", "Aeolian", "Afghan", "Afghani", "Afghanistani", "Afrikaans",
    "Afrikaner", "Alabaman", "Alabamian", "Alaskan", "Albanian", "Alexandrian", "Algerian", "Alsatian",
    "Altaic", "American", "Amish", "Anabaptist", "Andorran", "Angevin", "Angevine", "Anglican", "Angolan",
    "Anguillan", "Annamese", "Antiguan", "Appalachian", "Arcadian", "Argentine", "Argentinian", "Argive",
    "Arizonan", "Arizonian", "Arkansan", "Arkansawyer", "Armenian", "Asian", "Asiatic", "Assamese",
    "Athenian", "Augustinian", "Aussie", "Australian", "Austrian", "Austronesian", "Azerbaijani", "Badaga",
    "Bahamian", "Balkan", "Bangladeshi", "Baptist", "Baptistic", "Barbadian", "Basque", "Bavarian",
    "Belarusian", "Belgian", "Belorussian", "Benedictine", "Bengali", "Beninese", "Berliner", "Bermudan",
    "Bermudian", "Bhutanese", "Bhutani", "Blackfriar", "Bolivian", "Bornean", "Bosnian", "Bostonian",
    "Botswanan", "Brahui", "Brazilian", "Breton", "Brit", "Britisher", "Briton", "Bruneian", "Buddhist",
    "Bulgarian", "Burmese", "Burundi", "Burundian", "Byelorussian", "Cajun", "Californian", "Cambodian",
    "Cambrian", "Cameroonian", "Canadian", "Canarese", "Cantabrigian", "Carioca", "Carmelite", "Carolinian",
    "Carthusian", "Castillian", "Catalan", "Catholic", "Celt", "Celtic", "Chadian", "Chicano", "Chilean",
    "Chinese", "Christian", "Chuvash", "Cistercian", "Colombian", "Coloradan", "Colossian", "Congolese",
    "Congregationalist", "Connecticuter", "Copt", "Coptic", "Corinthian", "Cornishman", "Cornishwoman",
    "Creole", "Cretan", "Croatian", "Cuban", "Cymry", "Cyprian", "Cypriot", "Cypriote", "Czech",
    "Czechoslovak", "Czechoslovakian", "Dalmatian", "Damascene", "Dane", "Danish", "Dardan", "Dardanian",
    "Delawarean", "Delawarian", "Djiboutian", "Dominican", "Dravidian", "Dubliner", "Dunkard", "Dunker",
    "Dutch", "Dutchman", "Ebionite", "Ecuadoran", "Ecuadorian", "Egyptian", "English", "Englishman",
    "Englishwoman", "Ephesian", "Episcopalian", "Eritrean", "Ethiopian", "Etruscan", "Eurafrican",
    "Eurasian", "Eurasiatic", "European", "Evenk", "Farsi", "Fijian", "Filipino", "Finn", "Finnish",
    "Flemish", "Florentine", "Floridian", "Franciscan", "Frankish", "French", "Frenchman", "Frenchwoman",
    "Gabonese", "Gadaba", "Gael", "Gaelic", "Galatian", "Galilaean", "Galilean", "Gallic", "Gambian", "Gaul",
    "Genoese", "Georgian", "German", "Germanic", "Ghanaian", "Ghanese", "Ghanian", "Gibraltarian",
    "Glaswegian", "Gond", "Grecian", "Greek", "Grenadian", "Guatemalan", "Guinean", "Gujarati", "Gujerati",
    "Gurkha", "Guyanese", "Haitian", "Hakka", "Hanoverian", "Hawaiian", "Hellene", "Hellenic", "Hesperian",
    "Hindi", "Hindoo", "Hindu", "Hindustani", "Hispanic", "Hittite", "Hmong", "Hollander", "Honduran",
    "Hungarian", "Iberian", "Icelander", "Icelandic", "Idahoan", "Illinoisan", "Indian", "Indianan",
    "Indonesian", "Ionian", "Iowan", "Iraki", "Irani", "Iranian", "Iraqi", "Irelander", "Irishman",
    "Irishwoman", "Islamic", "Islamist", "Israeli", "Israelite", "Italian", "Jacobean", "Jamaican",
    "Japanese", "Javan", "Javanese", "Jesuit", "Jesuitic", "Jesuitical", "Jordanian", "Jugoslav",
    "Jugoslavian", "Jute", "Kampuchean", "Kanarese", "Kansan", "Karakalpak", "Kashmiri", "Katari", "Kazak",
    "Kazakh", "Kazakhstani", "Kelt", "Kentuckian", "Kenyan", "Khirghiz", "Khmer", "Kirghiz", "Kirgiz",
    "Kolam", "Korean", "Kota", "Kotar", "Kshatriya", "Kui", "Kurd", "Kuwaiti", "Kyrgyzstani", "Laconian",
    "Lancastrian", "Langobard", "Lao", "Laotian", "Lapp", "Lapplander", "Latino", "Latvian", "Lebanese",
    "Liberian", "Libyan", "Liechtensteiner", "Lithuanian", "Liverpudlian", "Livonian", "Londoner",
    "Louisianan", "Louisianian", "Lowlander", "Lusitanian", "Luxembourger", "Luxembourgian", "Luxemburger",
    "Macedonian", "Madagascan", "Magyar", "Mahratta", "Mainer", "Malawian", "Malay", "Malayan", "Malaysian",
    "Maldivan", "Maldivian", "Malian", "Maltese", "Malto", "Manchu", "Mancunian", "Mandaean", "Mandean",
    "Maratha", "Maroc", "Marylander", "Mauritanian", "Mauritian", "Melchite", "Melkite", "Mennonite",
    "Mesoamerican", "Methodist", "Mexican", "Mexicano", "Miao", "Michigander", "Milanese", "Minnesotan",
    "Minoan", "Mississippian", "Missourian", "Moldovan", "Mollah", "Monacan", "Monegasque", "Mongolian",
    "Montanan", "Montserratian", "Moorish", "Moresque", "Mormon", "Moroccan", "Moslem", "Mozambican",
    "Mulla", "Muslim", "Muslimah", "Mycenaen", "Namibian", "Nauruan", "Nazarene", "Neapolitan", "Nebraskan",
    "Neopolitan", "Nepalese", "Nepali", "Netherlander", "Nevadan", "Nicaraguan", "Nigerian", "Nipponese",
    "Nisei", "Norse", "Norseman", "Northerner", "Northman", "Norwegian", "Numidian", "Ohioan", "Oklahoman",
    "Omani", "Orangeman", "Oregonian", "Oriya", "Oscan", "Osmanli", "Ostrogoth", "Ottoman", "Oxonian",
    "Pakistani", "Panamanian", "Panjabi", "Papuan", "Paraguayan", "Parisian", "Parisienne", "Parsee",
    "Parsi", "Parthian", "Pashtoon", "Pashtun", "Pathan", "Pennsylvanian", "Pentecostal", "Pentecostalist",
    "Persian", "Peruvian", "Philippian", "Philippine", "Phrygian", "Polish", "Polynesian", "Portuguese",
    "Presbyterian", "Protestant", "Prussian", "Punjabi", "Pushtun", "Qatari", "Quaker", "Quebecois",
    "Rajpoot", "Rajput", "Rhodesian", "Roma", "Romani", "Romanian", "Romanic", "Romany", "Rommany",
    "Roumanian", "Ruandan", "Rumanian", "Russian", "Rwandan", "Ryukyuan", "Saame", "Saami", "Sabahan",
    "Sabbatarian", "Salian", "Salvadoran", "Salvadorean", "Salvadorian", "Sami", "Samnite", "Samoan",
    "Saracen", "Sarawakian", "Sardinian", "Saudi", "Savara", "Savoyard", "Saxon", "Scandinavian", "Scot",
    "Scotchman", "Scotchwoman", "Scots", "Scotsman", "Scotswoman", "Scottish", "Senegalese", "Seychellois",
    "Shaktist", "Sherpa", "Shiite", "Shivaist", "Shudra", "Siamese", "Sicilian", "Sindhi", "Singaporean",
    "Singhalese", "Sinhalese", "Sinitic", "Slovak", "Slovakian", "Slovene", "Slovenian", "Somali",
    "Somalian", "Southerner", "Soviet", "Spaniard", "Spanish", "Sudanese", "Sudra", "Sufi", "Sumatran",
    "Sunni", "Sunnite", "Swazi", "Swede", "Swedish", "Swiss", "Syrian", "Tadzhik", "Tahitian", "Tai",
    "Taiwanese", "Tajik", "Tajikistani", "Tamil", "Tanzanian", "Telugu", "Tennessean", "Teuton", "Teutonic",
    "Texan", "Thai", "Theban", "Thessalian", "Thessalonian", "Thracian", "Tibetan", "Timorese", "Tobagonian",
    "Toda", "Togolese", "Tongan", "Tractarian", "Trappist", "Trinidadian", "Tulu", "Tungus", "Tungusic",
    "Tunisian", "Tunker", "Turcoman", "Turk", "Turki", "Turkish", "Turkmen", "Turkoman", "Tuscan",
    "Tyrolean", "Ugandan", "Uighur", "Uigur", "Ukrainian", "Ukranian", "Uniat", "Uniate", "Uruguayan",
    "Usbeg", "Usbek", "Utahan", "Uygur", "Uzbak", "Uzbeg", "Uzbek", "Uzbekistani", "Vaishnava", "Vaisya",
    "Venetian", "Venezuelan", "Vermonter", "Vietnamese", "Viking", "Virginian", "Visigoth", "Wahabi",
    "Wahhabi", "Walloon", "Washingtonian", "Welsh", "Welshman", "Wesleyan", "Wiccan", "Wisconsinite",
    "Wyomingite", "Yakut", "Yemeni", "Yugoslav", "Yugoslavian", "Zairean", "Zairese", "Zambian", "Zealander",
    "Zimbabwean",
)
NOT_IDENTITY_NOTE = ("Dropped from WordNet's class: Abo, Apostle, Beaver, Brummy, Buckeye, Byzantine, Canuck, Confederate, "
                     "Contra, Cornhusker, Dorian, Fleming, Frank, Geordie, Gothic, Guru, Highlander, Hoosier, Kiwi, Latin, "
                     "Lombard, Mackem, Moor, Norman, Roman, Sabine, Samaritan, Sassenach, Satanist, Shaker, Tarheel, Tory, "
                     "Trojan, Union, WASP, Whig, Wolverine, Yank, Yankee")
MORE_IDENTITY = (
    "British", "Irish", "African", "Jewish", "Jew", "Jews", "Arab", "Arabs", "Arabic", "Hebrew", "Sikh", "Sikhs",
    "Latina", "Latinas", "Atheist", "Atheists", "Agnostic", "Gay", "Gays", "Lesbian", "Lesbians", "Bisexual",
    "Transgender", "Homosexual", "Homosexuals", "Heterosexual",
)


def plural(word: str) -> str | None:
    """The plural of a demonym or adherent noun ("Muslim" -> "Muslims"); None for words without one."""
    if word.endswith(("s", "sh", "ch", "x", "z", "ese", "ish")):
        return None
    if word.endswith("man"):
        return word[:-3] + "men"
    return word + "s"


def capitalization(texts) -> tuple[Counter, Counter]:
    """How often each lower-cased word follows another word, and how often it is then capitalized."""
    seen, capitalized = Counter(), Counter()
    for text in texts:
        for word in _AFTER_A_WORD.findall(text):
            lower = word.lower()
            seen[lower] += 1
            capitalized[lower] += word[0].isupper()
    return seen, capitalized


def build_words(texts) -> list[str]:
    """The identity words to list, lower case, given the reviews whose capitalization filters them."""
    seen, capitalized = capitalization(texts)
    listed = {w.lower() for w in IDENTITY} | {p.lower() for p in map(plural, IDENTITY) if p}
    kept = {w for w in listed if seen[w] < MIN_SEEN or capitalized[w] >= MIN_CAPITALIZED * seen[w]}
    return sorted(kept | {w.lower() for w in MORE_IDENTITY})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.identity_words", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="aclImdb folder or aclImdb_v1.tar.gz (its capitalization is the filter)")
    parser.add_argument("--out", default=None, help="file to write (default: sentiment/identity_words.json)")
    args = parser.parse_args(argv)
    from sentiment.data import DataError, load_split
    from sentiment.identity_words import WORDS_FILE
    from sentiment.model_folder import write_atomically

    try:
        texts = load_split(args.data, "train", validation_fraction=0.1).texts + load_split(args.data, "unsupervised").texts
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    words = build_words(texts)
    out = Path(args.out or WORDS_FILE)
    write_atomically(out, json.dumps({"built_by": "python -m training.identity_words", "note": NOT_IDENTITY_NOTE,
                                      "words": words}, indent=0) + "\n")
    print(json.dumps({"words": len(words), "out": str(out)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
