"""Small built-in vocabularies for the word and counting families (no downloads)."""

from __future__ import annotations

WORDS: tuple[str, ...] = tuple(
    """
    able about above accept across action active actor adapt admit adult advice afford
    after again agent agree ahead alarm album alert alike alive allow alone along alter
    amber among angle angry ankle apart apple apply april arena argue arise armor array
    arrow aside asset atlas audio aunt avoid awake award aware badge baker basic basin
    basket batch beach beard beast begin being below bench berry birth black blade blame
    blank blast blend bless blind block bloom board boast bonus boost booth bound brain
    brand brave bread break breed brick bride brief bring broad brook brown brush build
    bunch burst cabin cable camel canal candy canoe cargo carol carry carve catch cause
    cedar chain chair chalk charm chart chase cheap check cheek chess chest chief child
    chill choir civic claim clamp class clean clear clerk cliff climb clock close cloth
    cloud coach coast cobalt comet coral couch count court cover craft crane crash cream
    crest crisp crowd crown crust curve cycle daily dance dealer debate decade delta dense
    depth desert design detail device diary dinner direct donkey double dozen draft
    dragon drama dream dress drift drink drive eager eagle early earth easel echo editor
    eight elbow elder elect ember empty enjoy enter entry equal error essay event exact
    exile exist extra fable fabric facet faith false fancy farmer fatal favor feast fence
    ferry fever fiber field fifth final flame flash fleet flint float flock floor flour
    fluid focus forest forge forum frame fresh front frost fruit galaxy garden garlic
    gather gentle giant ginger glass globe glory glove grain grant grape graph grass
    gravel great green grid group guard guest guide habit harbor harvest hatch haven
    heart heavy hedge helmet herald hero hollow honey honor horse hotel house humble
    hunter icon igloo image index inner input island ivory jacket jelly jewel joint
    judge juice jungle kettle kernel kidney kingdom kitten knife label ladder lake lamp
    laser latch layer lemon level lever light limit linen lion liquid lobby local
    lodge logic lunar lunch magic magnet major mango maple marble market marsh mason
    meadow medal melon mercy metal meter middle mirror model money month motor mount
    mouse music native nature needle nerve never noble north novel nurse oasis ocean
    offer olive onion opera orbit order organ otter owner oxide paddle palace panel
    paper parade parcel pastel patch pearl pebble pencil pepper piano pilot pitch
    planet plaza plume pocket poem polar pond portal potato powder prairie press pride
    prism prize proof pulse pumpkin puzzle quartz queen quest quick quiet quilt rabbit
    radar radio rally ranch rapid raven razor ready realm rebel recipe relay ribbon
    ridge rifle river robin rocket royal ruby rural saddle salad salmon sample scale
    scarf scene scout season shadow shelf shell shield shore silver sketch sleeve slope
    smile snake solar sonnet spark spice spider spiral sponge spring square stable stage
    statue steam steel stone storm story straw stream street studio sugar summit sunset
    supper swamp sweater symbol table talent target temple tenant thread throne thunder
    ticket tiger timber toast token tower trail train treaty tribe trophy tulip tunnel
    turtle twig umbrella uncle union unity urban valley velvet venue vessel violet
    vision voice volcano voyage wagon walnut wander water wheat whisper willow window
    winter wizard wonder worker yacht yellow yield young zebra zenith
    """.split()
)

OBJECTS: dict[str, tuple[str, ...]] = {
    "fruit": (
        "apple",
        "banana",
        "orange",
        "peach",
        "plum",
        "grape",
        "strawberry",
        "nectarine",
        "blackberry",
        "raspberry",
    ),
    "vegetable": (
        "carrot",
        "potato",
        "onion",
        "cabbage",
        "yam",
        "stalk of celery",
        "head of broccoli",
        "cauliflower",
        "leek",
    ),
    "musical instrument": (
        "piano",
        "violin",
        "trumpet",
        "flute",
        "clarinet",
        "drum",
        "trombone",
        "accordion",
        "cello",
    ),
    "animal": (
        "cat",
        "dog",
        "rabbit",
        "goat",
        "cow",
        "pig",
        "chicken",
        "duck",
        "snake",
        "fish",
        "frog",
        "mouse",
        "donkey",
        "bear",
    ),
    "vehicle": ("car", "bus", "motorcycle", "truck", "bicycle", "train", "boat", "scooter"),
    "piece of furniture": (
        "chair",
        "table",
        "bed",
        "couch",
        "desk",
        "bookshelf",
        "wardrobe",
        "stool",
        "dresser",
    ),
}
"""Category → singular item names (plural = name + "s", see :func:`plural`)."""

_IRREGULAR = {
    "mouse": "mice",
    "fish": "fish",
    "strawberry": "strawberries",
    "blackberry": "blackberries",
    "raspberry": "raspberries",
    "peach": "peaches",
    "potato": "potatoes",
    "couch": "couches",
    "bus": "buses",
    "piece of furniture": "pieces of furniture",
    "stalk of celery": "stalks of celery",
    "head of broccoli": "heads of broccoli",
    "bookshelf": "bookshelves",
    "musical instrument": "musical instruments",
}

NUMBER_WORDS = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
)


def plural(noun: str) -> str:
    """The plural of one of the built-in nouns."""
    return _IRREGULAR.get(noun, noun + "s")


def article(noun: str) -> str:
    """``a`` or ``an`` for a noun."""
    return "an" if noun[0] in "aeiou" else "a"


NAMES: tuple[str, ...] = (
    "Alice",
    "Bob",
    "Carol",
    "David",
    "Emma",
    "Frank",
    "Grace",
    "Henry",
    "Irene",
    "Jack",
    "Karen",
    "Leo",
    "Maya",
    "Nora",
    "Oscar",
    "Paula",
    "Quinn",
    "Rosa",
    "Sam",
    "Tina",
    "Uma",
    "Victor",
    "Wendy",
    "Xavier",
    "Yara",
    "Zane",
)
"""Distinct first names (no name is a prefix of another)."""
