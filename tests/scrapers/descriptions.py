"""A labelled set of mix descriptions, written for this project in the styles uploaders use.

Each entry is (style, description, tracklist entries a reader should find). The texts are
ours (invented wording, real-world shapes): numbered, timestamped, slashes, no spaces,
bare numbers, one-sided dashes, mixed separators, prose and links around the list,
listener comments, and descriptions with dashes but no tracklist (the count is 0: any
line found there is a false positive). "ID - ID" rows count: the reader returns them and
the line parser skips them.
"""

from __future__ import annotations

__all__ = ["DESCRIPTIONS"]

DESCRIPTIONS: list[tuple[str, str, int]] = [
    (
        "numbered",
        """Recorded live at the warehouse, March 2024.

Tracklist:
1. Bicep - Glue
2. Four Tet - Baby
3. Floating Points - Silhouettes
4. Jon Hopkins - Emerald Rush

Follow me on Instagram - @djsomeone""",
        4,
    ),
    (
        "numbered",
        """TRACKLIST
01. Eric Prydz - Opus
02. Cirez D - On Off
03. Pryda - Power Drive
04. ID - ID
05. Eric Prydz - Generate
06. Lane 8 - Road""",
        6,
    ),
    (
        "numbered, no space",
        """New mix for the summer! Enjoy :)

Tracklist:
01.Kölsch - Grey
02.Tale Of Us - Another Earth
03.Anyma - Eternity
04.Stephan Bodzin - Powers of Ten
05.Massano - The Flood""",
        5,
    ),
    (
        "numbered, no space",
        """1.Bonobo - Kerala
2.Caribou - Odessa
3.Overmono - So U Kno
4.Bicep - Apricots

Download: https://example.com/mix""",
        4,
    ),
    (
        "bare numbers",
        """Track list
1 Ben Böhmer - Beyond Beliefs
2 Nora En Pure - Come With Me
3 Sasha - Xpander
4 ARTBAT - Upperground
5 Monolink - Return To Oz""",
        5,
    ),
    (
        "bare numbers",
        """Live from the rooftop.
1 Solomun - Customer Is King
2 Adriatique - Nude
3 Innellea - Vigilance
4 Mathame - Skin""",
        4,
    ),
    (
        "timestamped",
        """00:00 Intro
02:15 Bicep - Atlas
06:40 Overmono - Good Lies
11:05 Fred again.. - Delilah (pull me out of this)
15:30 Skrillex - Rumble
19:45 Outro""",
        4,
    ),
    (
        "timestamped",
        """Full set from the festival main stage.

[00:00] Eric Prydz - Opus
[06:12] Pryda - Power Drive
[11:40] Cirez D - Glasgow
[16:05] Eric Prydz - Every Day
[21:30] Eric Prydz - Pjanoo

Subscribe for more sets!""",
        5,
    ),
    (
        "timestamped, hours",
        """0:00:00 Lane 8 - Brightest Lights
0:05:30 Yotto - The One You Left Behind
0:11:00 Ben Böhmer - Breathing
0:17:20 Tinlicker - Children
0:23:45 Nils Hoffmann - Closer
1:02:03 Eli & Fur - You're So High""",
        6,
    ),
    (
        "timestamped with dash",
        """00:00 - Peggy Gou - It Goes Like (Nanana)
03:40 - Mochakk - Jealous
07:15 - Chris Lake - Turn Off The Lights
10:50 - John Summit - Where You Are""",
        4,
    ),
    (
        "timestamped in parentheses",
        """Tracks:
(00:00) Charlotte de Witte - Doppler
(04:30) Amelie Lens - Hypnotized
(08:10) I Hate Models - Daydream
(12:00) KI/KI - Quiver""",
        4,
    ),
    (
        "slashes",
        """Tracklist:
Bicep / Glue
Four Tet / Teenage Birdsong
Floating Points / LesAlpx
Jamie xx / Gosh""",
        4,
    ),
    (
        "slashes, numbered",
        """1. Dixon / Tempest
2. Âme / Rej
3. Henrik Schwarz / Leave My Head Alone Brain
4. Recondite / Levo
5. Mind Against / Atlant""",
        5,
    ),
    (
        "no spaces",
        """Tracklist
Kölsch-Grey
Tale Of Us-Nova
Anyma-Consciousness
Massano-Odyssey""",
        4,
    ),
    (
        "no spaces, numbered",
        """01.Adam Beyer-Your Mind
02.Enrico Sangiuliano-Symbiosis
03.Layton Giordani-Live Again
04.Bart Skils-Klap""",
        4,
    ),
    (
        "one badly spaced line",
        """Tracklist:
1. Daft Punk - Around The World
2. Kate Bush -Running Up That Hill
3. New Order - Blue Monday
4. Depeche Mode - Enjoy The Silence
5. Pet Shop Boys - West End Girls""",
        5,
    ),
    (
        "one badly spaced line",
        """Tracklist
Fatboy Slim - Praise You
The Chemical Brothers- Galvanize
Basement Jaxx - Where's Your Head At
Groove Armada - Superstylin'""",
        4,
    ),
    (
        "mixed separators",
        """Tracklist:
1. Boards of Canada - Roygbiv
2. Aphex Twin – Xtal
3. Autechre — Nine
4. Burial / Archangel
5. Four Tet-Angel Echoes""",
        5,
    ),
    (
        "mixed separators, timestamped",
        """00:00 Moderat - A New Error
04:20 Apparat – Goodbye
08:45 Modeselektor / Berlin
12:30 Paul Kalkbrenner-Sky and Sand""",
        4,
    ),
    (
        "prose around",
        """What a night! Huge thanks to everyone who came down to the club and to the crew.
This one goes out to the early birds.

Tracklist:
Carl Cox - I Want You (Forever)
Green Velvet - La La Land
Josh Wink - Higher State Of Consciousness
Underworld - Born Slippy (Nuxx)

Mixed and mastered by DJ Someone - get in touch for bookings.""",
        4,
    ),
    (
        "prose around",
        """My first mix of the year, recorded at home on two decks.
Hope you enjoy it - let me know what you think in the comments!

1. Dusky - Nobody Else
2. Ross From Friends - Talk To Me You'll Understand
3. Ross From Friends - John Cage
4. DJ Seinfeld - U

Artwork by a good friend - check out their page.""",
        4,
    ),
    (
        "prose around, links",
        """Out now on all platforms - https://example.com/smartlink
Tickets for the tour: www.example.com/tour

Tracklist
01. Disclosure - Latch
02. Duke Dumont - Need U (100%)
03. Gorgon City - Ready For Your Love
04. MK - 17

Booking: bookings@example.com""",
        4,
    ),
    (
        "comments below the list",
        """Setlist:
1. Deadmau5 - Strobe
2. Kaskade - Move For Me
3. Eric Prydz - Pjanoo

Comments:
Anonymous - what a set, who did the second track?
Reply - it is Kaskade I think""",
        3,
    ),
    (
        "markdown bullets",
        """**Tracklist**
* Bicep - Glue
* Bicep - Apricots
* Bicep - Atlas
* ID - ID
* Bicep - Saku""",
        5,
    ),
    (
        "markdown numbered escapes",
        """Tracklist:

1\\. Overmono - So U Kno

2\\. Overmono - Good Lies

3\\. Overmono - Is U

4\\. Overmono - Feelings""",
        4,
    ),
    (
        "labels and remixes",
        """Tracklist:
01. Eric Prydz - Opus (Four Tet Remix) [Pryda]
02. Lane 8 feat. POLIÇA - No Captain [Anjunadeep]
03. RÜFÜS DU SOL - Innerbloom (Lane 8 Remix) [Rose Avenue]
04. Camelphat & Elderbrook - Cola (Robin Schulz Remix) [Defected]""",
        4,
    ),
    (
        "w/ and mashups",
        """Tracklist:
1. Eric Prydz - Opus
w/ deadmau5 - Strobe
2. Pryda - Power Drive
3. Eric Prydz - Generate vs. Cirez D - On Off""",
        4,
    ),
    (
        "heading with emoji",
        """🎵 Tracklist 🎵
1. Fred again.. - Marea (we've lost dancing)
2. Fred again.. - Turn On The Lights again..
3. Four Tet - Baby""",
        3,
    ),
    (
        "heading inline text",
        """Eric Prydz live at Creamfields 2019. Tracklist:
Eric Prydz - Opus
Eric Prydz - Generate
Cirez D - On Off""",
        3,
    ),
    (
        "double spaced list",
        """Tracklist:

Amelie Lens - Feel It

Charlotte de Witte - Sgadi Li Mi

Enrico Sangiuliano - Hidden T

Thanks for listening!""",
        3,
    ),
    (
        "bare numbers with dots and cues",
        """1. [00:00] Peggy Gou - Starry Night
2. [04:10] Honey Dijon - Not About You
3. [08:00] Purple Disco Machine - Hypnotized
4. [12:20] Folamour - Ivory Tower""",
        4,
    ),
    (
        "hash numbers",
        """#1 Jamie xx - Gosh
#2 Jamie xx - Loud Places
#3 Romy - Loveher
#4 The xx - Intro""",
        4,
    ),
    (
        "numbered with parentheses",
        """Tracklist
1) Carl Craig - At Les
2) Derrick May - Strings Of Life
3) Jeff Mills - The Bells
4) Robert Hood - Minus""",
        4,
    ),
    (
        "no tracklist: promo",
        """New single out now - stream it everywhere!
Follow me on Instagram - @someone
Booking - bookings@example.com
Artwork - by a friend""",
        0,
    ),
    (
        "no tracklist: event blurb",
        """Recorded live at Printworks - London, 2022.
Huge thanks to the crew - you were amazing.
Doors 10pm - 6am, see you next time.""",
        0,
    ),
    (
        "no tracklist: chapters only",
        """00:00 Intro
05:00 Warm up
20:00 Peak time
55:00 Closing
60:00 Outro""",
        0,
    ),
    (
        "no tracklist: numbered prose",
        """Three rules for the dancefloor:
1. Leave your phone in your pocket
2. Respect the people around you
3. Drink water""",
        0,
    ),
    (
        "no tracklist: credits",
        """Mixed by DJ Someone
Mastered by Another Person - at the studio
Video - directed by a friend
Thanks to everyone who supported the night.""",
        0,
    ),
    (
        "no tracklist: empty",
        "",
        0,
    ),
    (
        "no tracklist: lyrics-like lines",
        """we danced - and the night went on
lights down - hands up
see you - next summer""",
        0,
    ),
    (
        "no tracklist: social links numbered",
        """1. Instagram - https://instagram.com/someone
2. SoundCloud - https://soundcloud.com/someone
3. Bandcamp - https://someone.bandcamp.com""",
        0,
    ),
    (
        "YouTube chapters with tracks",
        """Boiler Room set, recorded in Berlin.

0:00 Intro
1:20 Ellen Allien - Stadtkind
6:05 Paul Kalkbrenner - Sky and Sand
11:45 Ben Klock - Subzero
17:30 Marcel Dettmann - Planning

Support the artists!""",
        4,
    ),
    (
        "track list with years",
        """Tracklist:
1. Robin S - Show Me Love (1993)
2. CeCe Peniston - Finally (1991)
3. Crystal Waters - Gypsy Woman (1991)""",
        3,
    ),
    (
        "long list",
        """Tracklist:
"""
        + "\n".join(f"{n:02d}. Artist {n} - Title {n}" for n in range(1, 21)),
        20,
    ),
]
