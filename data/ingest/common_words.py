"""A small list of English words that trackers split across lines or join with hyphens.

Hyphenation repair asks whether a joined word is a word; the document itself answers most
of the time ("lithium" occurs elsewhere), this list covers words the document uses only
once, and the parts of real compounds ("high-quality", "state-owned") that must keep their
hyphen. Kept small on purpose: domain words come from the document.
"""

from __future__ import annotations

COMMON_WORDS = frozenset(
    """
    a about above access according account across act action actions active activities
    activity add added adoption advanced after against agency agreement agreements aims air
    all also among analysis and annual another any application applications approach
    approval approved area areas around as assembly at authorities authority automotive
    available base based basic battery batteries be been before being best between big
    billion board bodies body border both build building business but by can capabilities
    capacity capital carbon case cases center central chain chains change chemical chemicals
    china chinese city clean climate coal commerce commercial commission committee companies
    company competition competitive competitiveness comprehensive computing concerns
    conservation construction consumer consumption control cooperation corporate council
    countries country cross cutting data day decision demand demonstration department
    departments design develop developed developing development digital direct discount
    domestic drafting driven during economic economy ecosystem edge efficiency efficient
    electric electricity electronic electronics emission emissions end energy engineering
    enterprise enterprises environment environmental equipment establish established
    european excellent existing expansion export exports facilities factories factory fair
    field fields finance financial firms first five focus for foreign form framework free
    from full fund funding further future general global goal goals government green grid
    group growth guidance guidelines guiding half hardware have health high hydrogen
    implementation import imports improve in including income industrial industries industry
    information infrastructure initiative innovation integrated integration intellectual
    intelligence intelligent international internet investment investors is it its key
    known labor land large last law laws lead leading level levels line local long low made
    main major make making management manufacturing market markets material materials
    measures medical medium member mid million minister ministry mobility model modern
    months more most multi national natural network networks new next non notice nuclear
    number of official on one online open opinions or order other outlook output over owned
    own part parts party path people period pilot plan planning plans platform platforms
    policies policy political power pre private processing product production products
    program programs project projects promote promotion property protection provincial
    public quality range rare rate raw real reduction reform region regional regulation
    regulations related renewable report research resource resources retail right rights
    risk risks rules rural safety sale sales scale science sector sectors security self
    semiconductor service services set share short side size sized small smart social
    software solar source sources special standard standards state states storage strategic
    strategy structure supply support supporting sustainable system systems target targets
    tax technical technological technologies technology term the third through time to
    top total trade trading traditional training transformation transport transportation
    two under union united upgrading urban use value vehicle vehicles wide wind with work
    world year years zone zones
    """.split()  # noqa: SIM905 - a word list reads better as text
)
