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

FOUR_LETTER_WORDS: tuple[str, ...] = tuple(
    """
    bake bale ball band bane bang bank bare bark barn base bass bath bead beak beam bean
    bear beat beds beef been beer bees bell belt bend bent best bets bike bile bill bind
    bird bite bits blow blue boar boat body bold bolt bond bone book boom boot bore born
    boss both bowl buck bull bump bunk burn bush bust busy cage cake call calm came camp
    cane cape card care cart case cash cast cave cell chat chip clap coal coat code coin
    cold come cone cook cool cope copy cord core corn cost cove cows crab crew crop cube
    cure curl cute dame damp dare dark dart dash date dawn days dead deal dear debt deck
    deed deep deer dent desk dial dice diet dime dine dirt dish dive dock does doll dome
    done door dose dots dove down drag draw drew drip drop drum dual duck dull dumb dump
    dune dusk dust duty each earn ease east easy edge face fact fade fail fair fake fall
    fame fang fare farm fast fate fear feat feed feel fees feet fell felt file fill film
    find fine fire firm fish fist five flag flat flaw fled flew flip flow foam fold folk
    fond food fool foot fork form fort foul four free frog fuel full fume fund fuse gain
    gale game gate gave gaze gear gift girl give glad glow glue goal goat goes gold golf
    gone good gown grab gray grew grid grim grin grip grow gulf gust hail hair half hall
    halt hand hang hard hare harm hate have hawk head heal heap hear heat heel held helm
    help herb herd here hero hide high hike hill hint hire hold hole holy home hood hook
    hope horn hose host hour huge hull hung hunt hurt lace lack lady laid lake lamb lame
    lamp land lane last late lawn laws lead leaf leak lean leap left lend lens less lick
    life lift like lime limp line link lint lion list live load loaf loan lock loft lone
    long look loom loop lord lose loss lost loud love luck lump lung lure lurk made mail
    main make male mall malt mane many mare mark mask mass mast mate maze meal mean meat
    meet melt mend menu mere mesh mice mild mile milk mill mind mine mint miss mist moan
    moat mock mode mold mole monk mood moon more moss most moth move much mule muse must
    mute nail name near neat neck need nest nets news next nice nine node none noon norm
    nose note pace pack page paid pail pain pair pale palm pane park part pass past path
    peak pear peas peel pest pick pier pile pill pine pink pipe pity plan play plot plow
    plug plum poem poet pole poll pond pony pool poor pore pork port pose post pour pray
    prey pull pump pure push race rack rage raid rail rain rake ramp rang rank rare rash
    rate rave read real rear rent rest rice rich ride ring riot ripe rise risk road roam
    roar robe rock rode role roll roof room root rope rose rosy ruby rude rule rush rust
    safe sage said sail sake sale salt same sand sane sang sank save seal seam seat seed
    seek seem seen self sell send sent shed ship shoe shop shot show shut sick side sigh
    sign silk sing sink site size skin slam slap sled slid slim slip slot slow snow soak
    soap soar sock soda sofa soft soil sold sole some song soon sore sort soul sour spin
    spot star stay stem step stew stir stop such suit sung sunk sure swan swim tail take
    tale talk tall tame tank tape task team tear tell tend tent term test text than that
    them then they thin this tide tidy tied tier tile till time tint tiny tire toad told
    toll tomb tone took tool tops tore torn toss tour town trap tray tree trim trip true
    tube tuck tune turn twin type vain vale vane vary vase vast veil vein vent verb very
    vest vice view vine void vote wade wage wail wait wake walk wall wand want ward ware
    warm warn wary wash wasp wave wavy weak wear weed week well went were west what when
    whip wide wife wild will wilt wind wine wing wink wipe wire wise wish with woke wolf
    wood wool word wore work worm worn wrap yard yarn year yell yoke your zero zone
    """.split()
)
"""Common four-letter English words (lower case, distinct) for the word ladder family."""
